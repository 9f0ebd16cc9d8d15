package sim

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Campaign calls nobody was there to take (configs/asterisk/extensions.conf,
// context switchboard-outbound).
//
// Asterisk sets STASISSTATUS=FAILED on a channel whose Stasis() found no
// registered application, and goes on in the dialplan (app_stasis); a
// channel originated into an application is then hung up at once. Hangup
// handlers (CHANNEL(hangup_handler_push)) run on every channel that is hung
// up, in the dialplan or not (ast_hangup), before its end is published. The
// shipped dialplan uses both:
//
//	exten unattended   the hangup handler Switchboard pushes on every
//	                   campaign call: when STASISSTATUS is FAILED it sets
//	                   GLOBAL(SB_UNATTENDED_<SB_ATTEMPT>)=<epoch>,<AMDSTATUS>,
//	                   which the next start reads (GET /asterisk/variable)
//	exten nobody       reached after a Stasis() of exten amd, direct or beep
//	                   returns: when it FAILED and a person (not a machine)
//	                   answered, Playback(${SB_ABANDON}) first; then Hangup()

// HangupHandlerVar is the channel function that pushes a hangup handler
// ("context,exten,priority(args)").
const HangupHandlerVar = "CHANNEL(hangup_handler_push)"

// UnattendedPrefix starts the global variable the unattended hangup handler
// sets, followed by the attempt (SB_ATTEMPT).
const UnattendedPrefix = "SB_UNATTENDED_"

// setChanVar sets a channel variable as pbx_builtin_setvar_helper does:
// CHANNEL(hangup_handler_push) pushes a handler instead of storing a value.
func (c *channel) setChanVar(name, value string) {
	if name == HangupHandlerVar {
		c.hangupHandlers = append(c.hangupHandlers, value)
		return
	}
	c.vars[name] = value
}

// stasisFailed is a Stasis() that found no registered application:
// STASISSTATUS=FAILED, as app_stasis sets it, and the call is in the
// simulator's log as one the application never saw.
func (s *Server) stasisFailed(c *channel) {
	c.vars["STASISSTATUS"] = "FAILED"
	if c.log != nil {
		c.log.NoApp = true
	}
}

// runHangupHandlers runs c's hangup handlers, last pushed first (as
// Asterisk pops them). Only switchboard-outbound,unattended is modelled;
// other handlers do nothing.
func (s *Server) runHangupHandlers(c *channel) {
	for i := len(c.hangupHandlers) - 1; i >= 0; i-- {
		h := c.hangupHandlers[i]
		if p := strings.IndexByte(h, '('); p >= 0 {
			h = h[:p]
		}
		parts := strings.Split(h, ",")
		if len(parts) < 2 || parts[0] != OutboundContext || parts[1] != "unattended" {
			continue
		}
		if c.vars["STASISSTATUS"] != "FAILED" || c.vars["SB_ATTEMPT"] == "" {
			continue
		}
		s.globals[UnattendedPrefix+c.vars["SB_ATTEMPT"]] = strconv.FormatInt(s.clock.Now().Unix(), 10) + "," + c.vars["AMDSTATUS"]
		if c.log != nil {
			c.log.Unattended = true
		}
	}
}

// nobody is exten nobody: after a Stasis() that FAILED, a person hears the
// abandon message (SB_ABANDON, sound names joined by &) before the hang-up.
func (s *Server) nobody(c *channel) {
	msg := c.vars["SB_ABANDON"]
	if c.vars["STASISSTATUS"] != "FAILED" || c.vars["AMDSTATUS"] == "MACHINE" || msg == "" {
		s.hangup(c, 16, hangFar)
		return
	}
	var d time.Duration
	for _, name := range strings.Split(msg, "&") {
		d += s.sounds[name] // a file Playback cannot find plays nothing
	}
	c.appName, c.appData = "Playback", msg
	if c.log != nil {
		c.log.Message = msg
	}
	c.planTimer = s.after(d, func() {
		if !c.gone {
			s.hangup(c, 16, hangFar)
		}
	})
}

// AnswerChannel makes the far end of a ringing channel Switchboard
// originated answer now (a party that would never answer, or sooner
// than its rings): as when a customer picks up.
func (s *Server) AnswerChannel(channelID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("sim: channel %s: %w", channelID, ErrNotFound)
	}
	if !c.dialing || c.answered || c.state != "Ringing" {
		return fmt.Errorf("sim: channel %s is not ringing", channelID)
	}
	c.ringTimer.Stop()
	s.answerOutbound(c)
	return nil
}

// SetSoundLength sets how long sound NAME plays (Options.Sounds), for the
// playbacks that start from now on.
func (s *Server) SetSoundLength(name string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sounds[name] = d
}

// Global returns a global variable's value ("" when unset).
func (s *Server) Global(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.globals[name]
}
