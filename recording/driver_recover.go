package recording

import "context"

// Matching recordings to the PBX again: after a link-up (the engine's
// reconcile hands the driver what it learned: Known, Probe, Recover) and
// every SweepInterval (Sweep).

// Probe is what a link-up or a sweep learned of recordings: the rows
// still marked recording, and for each recording asked about whether the
// PBX is making it now.
type Probe struct {
	known []string    // started recordings this run knew at the link-up
	open  []Recording // rows marked recording (earlier runs' too)
	sweep bool        // a sweep's, not a link-up's
	live  map[string]bool
	asked map[string]bool // asked and answered at all
}

// Known are this run's recordings the PBX has confirmed: a link-up asks
// the PBX about them.
func (d *Driver) Known() []string {
	var recs []string
	for name, lr := range d.live {
		if lr.Known() {
			recs = append(recs, name)
		}
	}
	return recs
}

// Probe asks the PBX about the recordings this run had started (known)
// and those the database still marks recording; off the owner.
func (d *Driver) Probe(ctx context.Context, known []string) Probe {
	return d.probe(ctx, known, nil)
}

// probe is Probe; a row named in skip is not asked about (a sweep leaves
// this run's own recordings to their calls).
func (d *Driver) probe(ctx context.Context, known []string, skip map[string]bool) Probe {
	p := Probe{known: known, live: map[string]bool{}, asked: map[string]bool{}}
	if d.o.Repo == nil {
		return p
	}
	log := d.h.Logger()
	if l, ok := d.o.Repo.(OpenLister); ok {
		open, err := l.OpenRecordings(ctx)
		if err != nil {
			log.Warn("list the recordings still marked recording", "err", err)
		}
		p.open = open
	}
	for _, name := range ToAsk(known, p.open, skip) {
		live, err := d.pbx.RecordingLive(ctx, name)
		if err != nil {
			log.Warn("look up a recording", "recording", name, "err", err)
			continue
		}
		p.asked[name], p.live[name] = true, live
	}
	return p
}

// Recover matches recordings to the PBX after a link-up: one this run
// knew that the PBX no longer makes ended while the link was down (its
// file is fetched, or it is marked failed); a row an earlier run left
// marked recording is taken up again: carried on with its adopted call,
// stopped if its call is gone, fetched if it finished meanwhile. Runs on
// the owner after the reconcile.
func (d *Driver) Recover(p Probe) {
	for _, name := range p.known {
		if d.live[name] != nil && p.asked[name] && !p.live[name] {
			d.Event(name, Gone{Why: "recording ended while the PBX link was down"})
		}
	}
	for _, row := range p.open {
		name := row.Name
		if _, ending := d.ending[name]; ending || d.live[name] != nil || !p.asked[name] {
			continue // this run's, or the PBX did not answer: the next link-up asks again
		}
		k, ok := d.h.RecordingCall(row.CallID)
		lr := &liveRec{Live: Reopen(row, d.endWatch()), exec: d.h.NewExec(), id: row.ID}
		if ok {
			lr.call = row.CallID
		}
		d.live[name] = lr
		d.open.Add(1)
		d.step(lr, Recovered{Live: p.live[name], CallLive: ok && !k.Over, Sweep: p.sweep})
	}
	d.h.RecordingsRecovered()
}

// Sweep checks, every SweepInterval, the rows still marked recording that
// no recording of this run holds (an earlier run's, or one whose end
// could not be written) against the PBX, like a link-up does. The engine
// calls it once, when it starts.
func (d *Driver) Sweep() {
	if d.o.Repo == nil {
		return
	}
	if _, ok := d.o.Repo.(OpenLister); !ok {
		return
	}
	d.h.After(d.o.SweepInterval, func() {
		d.sweeping++
		skip := make(map[string]bool, len(d.live)+len(d.ending))
		for name := range d.live {
			skip[name] = true
		}
		for name := range d.ending {
			skip[name] = true
		}
		d.h.Background(func(ctx context.Context) {
			probe := d.probe(ctx, nil, skip)
			probe.sweep = true
			d.h.Post(func() {
				d.Recover(probe)
				d.sweeping--
				d.ForgetEnded()
				d.Sweep()
			})
		})
	})
}

// ForgetEnded drops the recordings whose end is written once no link-up
// or sweep may still list them as open. The engine calls it when its
// last reconcile is done.
func (d *Driver) ForgetEnded() {
	if d.h.Reconciling() || d.sweeping > 0 {
		return
	}
	for name, ending := range d.ending {
		if !ending {
			delete(d.ending, name)
		}
	}
}

// ToAsk are the recordings to ask the PBX about after a link-up or in a
// sweep: those this run had started (known), then the rows still marked
// recording (an earlier run's too) but those in skip (a sweep leaves this
// run's own recordings to their calls), each once.
func ToAsk(known []string, open []Recording, skip map[string]bool) []string {
	seen := map[string]bool{}
	var ask []string
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			ask = append(ask, name)
		}
	}
	for _, name := range known {
		add(name)
	}
	for _, r := range open {
		if !skip[r.Name] {
			add(r.Name)
		}
	}
	return ask
}
