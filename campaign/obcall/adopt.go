package obcall

import (
	"context"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/outbound"
	"github.com/switchboard/switchboard/reconcile"
)

// Campaign calls an earlier run placed: after a restart (or a reconnect)
// the driver carries on those it finds (adoptOrphan, the reconcile's
// Adopt), follows those still ringing to their end (FollowRinging), and
// reports the end of the others to the runner, which adopted their open
// attempts at its start and waits for it.

// pend is a campaign call from before a restart whose Dial is being
// looked up (or that the reconcile found ringing); it notes a hang-up
// that comes meanwhile.
type pend struct {
	gone      bool
	causes    sb.LegCause
	destroyed int
}

// adoptOrphan looks up the Dial of a campaign call an earlier run placed
// and, once known, carries the call on where it is (answered: AMD or a
// person; back from AMD: its result). It reports false when there is
// nothing to look up (no adopter, or not a campaign channel).
func (d *Driver) adoptOrphan(ch sb.ChannelInfo, args []string) bool {
	attempt, ok := outbound.AttemptOf(ch.ID)
	if !ok || d.hooks.Adopt == nil {
		return false
	}
	if d.pending[ch.ID] != nil {
		return true
	}
	p := &pend{}
	d.pending[ch.ID] = p
	adopt := d.hooks.Adopt
	d.h.Detached(func(ctx context.Context) {
		dl, err := adopt(ctx, attempt)
		d.h.Post(func() {
			delete(d.pending, ch.ID)
			log := d.h.Logger()
			if err != nil || d.h.Draining() {
				log.Warn("campaign call from before a restart not adopted; hanging up", "channel_id", ch.ID, "err", err)
				d.unadopted(ch.ID, args)
				return
			}
			l := d.newLine(dl)
			d.lines[ch.ID] = l
			d.Apply(l, Resumed{Causes: p.causes, Gone: p.gone, Destroyed: p.destroyed})
			if l.m.State() == Ended {
				log.Info("campaign call from before a restart ended before a person came", "channel_id", ch.ID)
				return
			}
			log.Info("campaign call from before a restart adopted", "channel_id", ch.ID, "campaign", dl.Campaign, "attempt", attempt)
			d.Entered(ch, args)
		})
	})
	return true
}

// unadopted hangs up a campaign call an earlier run placed that nothing
// carries on (its Dial unknown) and reports its end: a person reached and
// not put through is abandoned (UnadoptedOutcome).
func (d *Driver) unadopted(ch sb.ChannelID, args []string) {
	d.orphanEnded(ch, UnadoptedOutcome(amdStatus(args)), nil)
	d.h.HangupOrphan(ch)
}

// pendingEvent notes the hang-up of a campaign call whose adoption is
// being looked up; it reports whether e was such a call's.
func (d *Driver) pendingEvent(e sb.Event) bool {
	p := d.pending[sb.ChannelOf(e)]
	if p == nil {
		return false
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		p.causes.Note(e)
		p.gone = true
	case sb.ChannelDestroyed:
		p.gone, p.destroyed = true, e.Cause
	}
	return true
}

// readUnattended reads the dialplan's record of a campaign call gone
// before any person was put through, when that end may hide an answer
// nobody took: Asterisk hangs up a call answered while the application is
// not registered (a restart, a dropped link), and the dialplan's hangup
// handler records it (outbound.ReadUnattended). then gets the record (nil:
// none, or it could not be read) on the owner goroutine.
func (d *Driver) readUnattended(ch sb.ChannelID, attempt int64, then func(rec *sb.Unattended)) {
	d.h.Detached(func(ctx context.Context) {
		u, found, err := outbound.ReadUnattended(ctx, d.pbx, attempt)
		if err != nil {
			d.h.Logger().Warn("campaign call: reading the dialplan's record failed; its attempt closes by its cause", "channel_id", ch, "err", err)
		}
		d.h.Post(func() {
			var rec *sb.Unattended
			if found {
				rec = &u
				d.h.Logger().Info("campaign call answered while no Switchboard took it", "channel_id", ch)
			}
			then(rec)
		})
	})
}

// EndedUnheard reports the end, with the PBX's cause, of a campaign call
// an earlier run placed that ended before any person was put through
// (reconcile.EndedUnheard): with the dialplan's record it is abandoned (or
// a machine) with its call-log row; without one it ends as its cause says.
func (d *Driver) EndedUnheard(ch sb.ChannelID, cause int) {
	d.endedUnheard(ch, campaign.OutcomeOfCause(cause))
}

// endedUnheard is EndedUnheard with the outcome o the cause gave.
func (d *Driver) endedUnheard(ch sb.ChannelID, o sb.DialOutcome) {
	attempt, ok := outbound.AttemptOf(ch)
	if !ok {
		return
	}
	d.readUnattended(ch, attempt, func(rec *sb.Unattended) {
		d.orphanEnded(ch, UnattendedOutcome(rec, o), rec)
	})
}

// goneWhileListing reports the end of a campaign call an earlier run
// placed that ends while the PBX's channels are being listed after a
// start: the runner may have found it live and adopted its attempt, and
// the listing may come too late to show it, so nobody else would report
// it. It reports whether e was such a call's.
func (d *Driver) goneWhileListing(e sb.ChannelDestroyed) bool {
	id := e.Channel.ID
	if _, ok := outbound.AttemptOf(id); !ok || d.h.Known(id) || d.pending[id] != nil || d.ringing[id] != nil {
		return false
	}
	d.h.NoteGone(id)
	d.goneEarly[id] = true
	d.endedUnheard(id, campaign.OutcomeOfCause(e.Cause))
	return true
}

// ringingEvent follows a campaign call from before a restart that the
// reconcile found ringing or in AMD: a dial result or hang-up request
// notes its cause, its end is reported to the runner with the outcome the
// cause says; once it enters the application (answered, or back from
// AMD) it is no longer followed here: Entered adopts it.
// It reports whether e was such a call's.
func (d *Driver) ringingEvent(e sb.Event) bool {
	id := sb.ChannelOf(e)
	p := d.ringing[id]
	if p == nil {
		return false
	}
	if d.lines[id] != nil || d.pending[id] != nil {
		delete(d.ringing, id) // carried on by the adoption
		return false
	}
	switch e := e.(type) {
	case sb.DialResult, sb.HangupRequested:
		p.causes.Note(e)
	case sb.ChannelDestroyed:
		delete(d.ringing, id)
		d.endedUnheard(id, campaign.OutcomeOfCause(p.causes.At(e.Cause)))
	}
	return true
}

// orphanEnded reports the end of a campaign call no Dial of this run
// placed (it was placed before a restart), with the dialplan's record u of
// a call answered while no Switchboard was connected (nil: none): the
// runner adopted its open attempt when it started and waits for this
// report to close it.
func (d *Driver) orphanEnded(ch sb.ChannelID, o sb.DialOutcome, u *sb.Unattended) {
	attempt, ok := outbound.AttemptOf(ch)
	if !ok || d.hooks.Report == nil {
		return
	}
	d.h.Logger().Info("campaign call from before a restart ended", "channel_id", ch, "outcome", o)
	d.hooks.Report(outbound.Event{Attempt: attempt, Kind: outbound.Ended, At: d.h.Now(), Outcome: o, Unattended: u})
}

// Entering: channel ch entered the application (answered, or back from
// AMD): a call followed ringing is adopted from here.
func (d *Driver) Entering(ch sb.ChannelID) { delete(d.ringing, ch) }

// Placed are the lines the PBX took whose listing must show them
// (Call.Listed), for a reconcile after a reconnect: one the listing does
// not show ended while the link was down (Lost).
func (d *Driver) Placed() map[sb.ChannelID]*Line {
	placed := map[sb.ChannelID]*Line{}
	for id, l := range d.lines {
		if l.m.Listed() {
			placed[id] = l
		}
	}
	return placed
}

// Lost: the listing after a reconnect does not show line l, placed
// before it was asked for (Placed), and no end of it came: it ended while
// the link was down. A line this run no longer follows so is left alone.
func (d *Driver) Lost(l *Line) {
	if d.lines[l.d.Channel] == l && l.m.Listed() {
		d.Apply(l, Lost{})
	}
}

// Campaigns tells a reconcile which campaign channels the driver follows
// and how (into).
func (d *Driver) Campaigns(into map[sb.ChannelID]reconcile.Campaign) {
	for ch := range d.goneEarly {
		into[ch] = reconcile.CampaignGoneEarly
	}
	for ch := range d.ringing {
		into[ch] = reconcile.CampaignRinging
	}
	for ch := range d.lines {
		into[ch] = reconcile.CampaignFollowed
	}
	for ch := range d.pending {
		into[ch] = reconcile.CampaignAdopting
	}
}

// FollowRinging follows a campaign call of an earlier run the reconcile
// found ringing (or in AMD) to its end (reconcile.FollowRinging).
func (d *Driver) FollowRinging(ch sb.ChannelID) { d.ringing[ch] = &pend{} }

// Follows reports whether the driver carries channel ch (or is looking
// its Dial up): it is no caller to adopt.
func (d *Driver) Follows(ch sb.ChannelID) bool { return d.pending[ch] != nil || d.lines[ch] != nil }

// ListingDone: no listing is being taken any more: the ends noted while
// one was are forgotten.
func (d *Driver) ListingDone() { clear(d.goneEarly) }

// Adopt takes on a campaign call of attempt an earlier run placed that
// the reconcile found with a person on ch (call sb.CallID(ch)); the
// engine keeps the line with the call, then applies AdoptedTalking or
// AdoptedWaiting.
func (d *Driver) Adopt(ch sb.ChannelID, attempt int64) *Line {
	l := d.newLine(outbound.Dial{Attempt: attempt, Channel: ch})
	l.call = sb.CallID(ch)
	d.lines[ch] = l
	return l
}
