package center

import (
	"context"
	"time"

	sb "github.com/switchboard/switchboard"
)

// CDRJournal is a call log that also keeps the rows of live calls
// (write-ahead): a call's row is opened when it enters and updated as it
// goes, so a call that ends while Switchboard is down is still in the log;
// the next start closes the rows a crash left open. storage.DB is one.
type CDRJournal interface {
	OpenCDR(ctx context.Context, c *sb.CDR) error
	OpenCDRs(ctx context.Context, node string, before time.Time) ([]sb.CDR, error)
}

// journal writes what is known of a live call to its open row.
func (c *Center) journal(k *call) {
	j, ok := c.store.(CDRJournal)
	if !ok || k.life.Over() {
		return
	}
	row := &sb.CDR{
		CallID: k.ID, Node: k.Node, Caller: k.Caller, CallerName: k.CallerName, Called: k.Called,
		Queue: k.Queue, Agent: k.Agent, Entered: k.Entered, Answered: sb.SomeTime(k.Answered), Bridged: sb.SomeTime(k.Bridged),
	}
	c.persist(func(ctx context.Context) error { return j.OpenCDR(ctx, row) }, func(err error) {
		c.log.Warn("call log: open row not written", "call_id", row.CallID, "err", err)
	})
}

// closeEndedWhileDown closes the open rows of calls that entered before
// this start and that the PBX no longer has (live: the snapshot's
// channels): they ended while Switchboard was down. Runs off the owner
// goroutine; the rows keep what was written as the call went.
func (c *Center) closeEndedWhileDown(ctx context.Context, live map[sb.ChannelID]bool) {
	j, ok := c.store.(CDRJournal)
	if !ok {
		return
	}
	// Rows entered up to this run's start, the start instant included: a
	// call of the earlier run can enter at that very instant. A call of
	// this run is live in the listing and left alone.
	rows, err := j.OpenCDRs(ctx, c.pbx.Node(), c.startedAt.Add(time.Nanosecond))
	if err != nil {
		c.log.Error("call log: listing the rows a crash left open failed", "err", err)
		return
	}
	now := c.clock.Now()
	for i := range rows {
		row := rows[i]
		if live[sb.ChannelID(row.CallID)] {
			continue // still up: adopted, its end closes the row
		}
		row.Outcome, row.Ended, row.HangupBy = sb.OutcomeEndedWhileDown, now, "unknown"
		if row.Ended.Before(row.Entered) {
			row.Ended = row.Entered
		}
		c.log.Info("call ended while Switchboard was down", "call_id", row.CallID)
		c.writeCDR(&row)
	}
}
