package outbound

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
)

// preview is a lead claimed for an agent who has not dialed or skipped it.
type preview struct {
	claim   campaign.Claim
	agent   sb.AgentID
	expires time.Time
}

func (p *preview) lead() PreviewLead {
	l := p.claim.Lead
	return PreviewLead{
		Attempt: p.claim.Attempt.ID, Campaign: l.Campaign, Number: l.Number, Region: l.Region, TimeZone: l.TimeZone,
		Attempts: l.Attempts - 1, LastOutcome: l.LastOutcome, Data: l.Data, Expires: p.expires,
	}
}

// Preview claims the next due lead of a running preview campaign for an
// agent, who then dials or skips it. An agent who already holds a lead of
// the campaign gets the same one again. Fails with ENOTFOUND for an unknown
// campaign or when no lead is due, ECONFLICT when the campaign is not a
// running preview campaign.
func (r *Runner) Preview(ctx context.Context, name string, agent sb.AgentID) (PreviewLead, error) {
	if agent == "" {
		return PreviewLead{}, sb.Errorf(sb.EINVALID, "preview: no agent")
	}
	var out PreviewLead
	var err error
	if e := r.do(ctx, func() { out, err = r.preview(ctx, name, agent) }); e != nil {
		return PreviewLead{}, e
	}
	return out, err
}

func (r *Runner) preview(ctx context.Context, name string, agent sb.AgentID) (PreviewLead, error) {
	for _, id := range slices.Sorted(maps.Keys(r.previews)) {
		if p := r.previews[id]; p.agent == agent && p.claim.Lead.Campaign == name {
			return p.lead(), nil
		}
	}
	if err := r.ready(ctx); err != nil {
		return PreviewLead{}, err
	}
	now := r.o.Now()
	c, err := r.o.Store.Campaign(ctx, name)
	if err != nil {
		return PreviewLead{}, err
	}
	switch {
	case c.Mode != sb.PreviewDialing:
		return PreviewLead{}, sb.Errorf(sb.ECONFLICT, "campaign %s dials in %s mode: agents preview leads only in preview mode", name, c.Mode)
	case c.State != sb.CampaignRunning:
		return PreviewLead{}, sb.Errorf(sb.ECONFLICT, "campaign %s is %s", name, c.State)
	}
	r.campFor(ctx, c, now)
	claims, err := r.o.Store.ClaimLeads(ctx, name, 1, now)
	if err != nil {
		return PreviewLead{}, err
	}
	if len(claims) == 0 {
		return PreviewLead{}, sb.Errorf(sb.ENOTFOUND, "campaign %s has no lead to call now", name)
	}
	p := &preview{claim: claims[0], agent: agent, expires: now.Add(previewHold)}
	r.previews[p.claim.Attempt.ID] = p
	r.log.Info("outbound: preview claimed", slog.String("campaign", name), slog.String("agent_id", string(agent)), slog.Int64("attempt", p.claim.Attempt.ID))
	return p.lead(), nil
}

// held returns the preview of campaign name an agent holds, or the error
// to answer.
func (r *Runner) held(name string, attempt int64, agent sb.AgentID) (*preview, error) {
	p := r.previews[attempt]
	switch {
	case p == nil:
		return nil, sb.Errorf(sb.ENOTFOUND, "attempt %d is not a lead held for preview", attempt)
	case p.claim.Lead.Campaign != name:
		return nil, sb.Errorf(sb.ENOTFOUND, "attempt %d is not one of campaign %s's", attempt, name)
	case p.agent != agent:
		return nil, sb.Errorf(sb.EFORBIDDEN, "attempt %d is held by another agent", attempt)
	}
	return p, nil
}

// PreviewDial places the call of a lead of campaign name the agent holds:
// the center rings the agent first, then the customer. The lead is checked
// again (calling window, do-not-call list, campaign running): one that may
// not be dialed now goes back and the reason is an ECONFLICT.
func (r *Runner) PreviewDial(ctx context.Context, name string, attempt int64, agent sb.AgentID) error {
	var err error
	if e := r.do(ctx, func() {
		var p *preview
		if p, err = r.held(name, attempt, agent); err != nil {
			return
		}
		delete(r.previews, attempt)
		now := r.o.Now()
		var c sb.Campaign
		if c, err = r.o.Store.Campaign(ctx, p.claim.Lead.Campaign); err != nil {
			r.giveBack(ctx, r.log, attempt, now)
			return
		}
		err = r.place(ctx, r.campFor(ctx, c, now), p.claim, agent)
	}); e != nil {
		return e
	}
	return err
}

// PreviewSkip gives back a lead of campaign name the agent holds: it is
// due again at once and the attempt is not counted.
func (r *Runner) PreviewSkip(ctx context.Context, name string, attempt int64, agent sb.AgentID) error {
	var err error
	if e := r.do(ctx, func() {
		if _, err = r.held(name, attempt, agent); err != nil {
			return
		}
		delete(r.previews, attempt)
		_, err = r.o.Store.ReturnAttempt(ctx, attempt, r.o.Now())
	}); e != nil {
		return e
	}
	return err
}

// expirePreviews gives back the leads held past previewHold.
func (r *Runner) expirePreviews(ctx context.Context, now time.Time) {
	for _, id := range slices.Sorted(maps.Keys(r.previews)) {
		p := r.previews[id]
		if now.Before(p.expires) {
			continue
		}
		delete(r.previews, id)
		r.log.Info("outbound: preview lapsed: lead given back", slog.String("campaign", p.claim.Lead.Campaign),
			slog.String("agent_id", string(p.agent)), slog.Int64("attempt", id))
		r.giveBack(ctx, r.log, id, now)
	}
}

// Disposition records the agent's disposition of a placed attempt, during
// or after the call. campaign.DispositionDNC ("dnc") puts the number on the
// do-not-call list (source "agent") and closes the lead as dnc. It works
// whether or not the runner is running. With by set (an agent's own
// request) the attempt must be one that agent took (the agent put through
// to the person, switchboard.Attempt.Agent): another's fails with EFORBIDDEN
// and changes nothing.
func (r *Runner) Disposition(ctx context.Context, name string, attempt int64, disp string, by sb.AgentID) error {
	a, err := r.o.Store.Attempt(ctx, attempt)
	if err != nil {
		return err
	}
	if a.Campaign != name {
		return sb.Errorf(sb.ENOTFOUND, "attempt %d is not one of campaign %s's", attempt, name)
	}
	if by != "" && a.Agent != string(by) {
		if a.Agent == "" {
			return sb.Errorf(sb.EFORBIDDEN, "attempt %d was not put through to an agent: only a supervisor may set its disposition", attempt)
		}
		return sb.Errorf(sb.EFORBIDDEN, "attempt %d was taken by another agent", attempt)
	}
	l, err := r.o.Store.SetDisposition(ctx, attempt, disp, r.o.Now())
	if err != nil {
		return err
	}
	r.log.Info("outbound: disposition", slog.Int64("attempt", attempt), slog.String("campaign", l.Campaign),
		slog.String("disposition", disp), slog.String("lead_state", string(l.State)))
	return nil
}

// Stats returns a campaign's live dialing picture. Fails with ENOTFOUND for
// an unknown campaign.
func (r *Runner) Stats(ctx context.Context, name string) (CampaignStats, error) {
	var s CampaignStats
	var known bool
	var rate float64 // attempts ended per second lately
	if err := r.do(ctx, func() { s, rate, known = r.stats(name) }); err != nil {
		return CampaignStats{}, err
	}
	if !known {
		c, err := r.o.Store.Campaign(ctx, name)
		if err != nil {
			return CampaignStats{}, err
		}
		s = CampaignStats{Campaign: c.Name, State: c.State, Mode: c.Mode, AbandonCap: c.AbandonCap, DailyAbandonCap: c.DailyAbandonCap}
	}
	counts, err := r.o.Store.LeadCounts(ctx, name)
	if err != nil {
		return CampaignStats{}, err
	}
	s.LeadsLeft = counts[sb.LeadNew] + counts[sb.LeadRetry]
	if rate > 0 && s.LeadsLeft > 0 {
		s.ETA = float64(s.LeadsLeft) / rate
	}
	return s, nil
}

// stats reads a campaign's measurements on the loop.
func (r *Runner) stats(name string) (s CampaignStats, endRate float64, ok bool) {
	cp := r.camps[name]
	if cp == nil {
		return s, 0, false
	}
	now := r.o.Now()
	cp.prune(now)
	c := cp.c
	s = CampaignStats{
		Campaign: c.Name, State: c.State, Mode: c.Mode, Pacer: cp.pacerName,
		AbandonCap: c.AbandonCap, DailyAbandonCap: c.DailyAbandonCap, Agents: cp.agents,
		Dialed: cp.totals.dialed, Answered: cp.totals.answered, Abandoned: cp.totals.abandoned, Machines: cp.totals.machines,
	}
	since := now.Sub(r.startedAt)
	if span := min(dialRateWindow, since); span > 0 {
		s.DialRatePerMinute = float64(len(cp.dials)) / span.Minutes()
	}
	for _, k := range r.calls {
		if k.campaign != name {
			continue
		}
		s.LinesInFlight++
		if k.answered && !k.connected {
			s.WaitingForAgent++
		}
	}
	live := 0
	for _, e := range cp.ended {
		if e.live {
			live++
		}
	}
	if len(cp.ended) > 0 {
		s.AnswerRate = float64(live) / float64(len(cp.ended))
		if span := min(answerWindow, since); span > 0 {
			endRate = float64(len(cp.ended)) / span.Seconds()
		}
	}
	w := cp.ledger.Windows(now)
	s.AbandonRateWindow, s.AbandonRateToday = w.Rolling.Rate(), w.Day.Rate()
	talking, total := 0, 0
	for _, x := range cp.samples {
		talking += x.talking
		total += x.total
	}
	if total > 0 {
		s.AgentOccupancy = float64(talking) / float64(total)
	}
	return s, endRate, true
}
