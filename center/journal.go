package center

import (
	"context"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/reconcile"
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
// this start and that the listing no longer shows: they ended while
// Switchboard was down (reconcile.EndedWhileDown). Runs off the owner
// goroutine.
func (c *Center) closeEndedWhileDown(ctx context.Context, l reconcile.Listing) {
	j, ok := c.store.(CDRJournal)
	if !ok {
		return
	}
	rows, err := j.OpenCDRs(ctx, c.pbx.Node(), reconcile.OpenBefore(c.startedAt))
	if err != nil {
		c.log.Error("call log: listing the rows a crash left open failed", "err", err)
		return
	}
	for _, row := range reconcile.EndedWhileDown(rows, l, c.clock.Now()) {
		c.log.Info("call ended while Switchboard was down", "call_id", row.CallID)
		c.writeCDR(&row)
	}
}
