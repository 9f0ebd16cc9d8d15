package center

import (
	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/lifecycle"
	"github.com/switchboard/switchboard/routing"
)

// life applies e to the call's lifecycle and carries out the commands it
// returns, in order. Commands may apply further events (a flow told the
// caller left may hang up); each runs to its end before the next.
func (c *Center) life(k *call, e lifecycle.Event) {
	for _, cmd := range k.life.Apply(e, c.clock.Now()) {
		switch cmd := cmd.(type) {
		case lifecycle.Answer:
			c.answer(k)
		case lifecycle.StartFlow:
			c.startFlow(k)
		case lifecycle.PlayGreeting:
			c.playGreeting(k)
		case lifecycle.Hunt:
			c.acdHunt(k)
		case lifecycle.Rehunt:
			c.rehunt(k)
		case lifecycle.StartMOH:
			c.startMOH(k)
		case lifecycle.StopMOH:
			c.stopMOH(k)
		case lifecycle.Bridge:
			c.bridge(k, cmd)
		case lifecycle.Connected:
			c.talking(k)
		case lifecycle.StartRecordings:
			c.rec.RecordAdopted(k.ID)
		case lifecycle.TransferAnswered:
			c.transferAnswered(k)
		case lifecycle.TransferFailed:
			c.transferFailed(k)
		case lifecycle.CallerLeft:
			c.callerLeft(k)
		case lifecycle.ReportEnded:
			c.acdReportEnded(k, cmd.ByAgent)
		case lifecycle.ReportAbandon:
			c.acdApply(routing.Abandon{Call: k.ID})
		case lifecycle.CancelOffers:
			if ac := c.acd.calls[k.ID]; ac != nil {
				c.acdCancelLegs(k, ac)
			}
		case lifecycle.HangUp:
			if cmd.Leg == lifecycle.CallerLeg {
				c.hangupChannel(k, sb.ChannelID(k.ID))
			} else {
				c.hangupChannel(k, k.agentCh)
			}
		case lifecycle.Say:
			c.sayAndHangUp(k, cmd)
		case lifecycle.Close:
			c.finish(k, cmd)
		}
	}
}
