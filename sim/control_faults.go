package sim

import (
	"encoding/json"
	"net/http"
	"time"
)

// The control API of faults and sessions:
//
//	GET    /sim/v1/faults          the fault configuration (faultsJSON)
//	POST   /sim/v1/faults          replaces it (absent fields: no fault)
//	DELETE /sim/v1/faults          no faults any more
//	POST   /sim/v1/faults/release  ends every stall now
//	GET    /sim/v1/sessions        the HTTP session limit and counts
//	PUT    /sim/v1/sessions        {"limit": N} changes the limit

// faultsFields are the fields of POST /sim/v1/faults.
var faultsFields = []string{"seed", "recording_finished", "hangup", "remove_channel", "stop_recording"}

var recordingFaultFields = []string{"drop", "delay", "delay_by", "reorder"}

var requestFaultFields = []string{"fail", "stall", "stall_for", "stall_then_do", "fail_first", "stall_first"}

// faultsJSON writes f as POST /sim/v1/faults reads it.
func faultsJSON(f Faults) map[string]any {
	req := func(r RequestFaults) map[string]any {
		counts := func(m map[string]int) map[string]int {
			if m == nil {
				return map[string]int{}
			}
			return m
		}
		return map[string]any{"fail": r.Fail, "stall": r.Stall, "stall_for": r.StallFor.String(),
			"stall_then_do": r.StallThenDo, "fail_first": counts(r.FailFirst), "stall_first": counts(r.StallFirst)}
	}
	rf := f.RecordingFinished
	return map[string]any{
		"seed": f.Seed,
		"recording_finished": map[string]any{"drop": rf.Drop, "delay": rf.Delay, "delay_by": rf.DelayBy.String(),
			"reorder": rf.Reorder},
		"hangup":         req(f.Hangup),
		"remove_channel": req(f.RemoveChannel),
		"stop_recording": req(f.StopRecording),
	}
}

// sub returns the object field name (nil when absent), its unknown
// fields refused; pre is the name's path for errors.
func (b ctlBody) sub(pre, name string, allowed []string) (ctlBody, *fieldError) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return ctlBody{}, nil
	}
	var m ctlBody
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, badField(pre+name, "want a JSON object")
	}
	if fe := m.only(allowed...); fe != nil {
		fe.field = pre + name + "." + fe.field
		return nil, fe
	}
	return m, nil
}

// frac reads the fraction field name (0 when absent).
func (b ctlBody) frac(pre, name string) (float64, *fieldError) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return 0, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, badField(pre+name, "want a number from 0 to 1")
	}
	return v, checkFraction(pre+name, v)
}

// dur reads the Go duration string field name (0 when absent).
func (b ctlBody) dur(pre, name string) (time.Duration, *fieldError) {
	v, has, fe := b.str(name)
	if fe != nil {
		fe.field = pre + name
		fe.msg = "want a duration such as \"2s\""
		return 0, fe
	}
	if !has || v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, badField(pre+name, "%q: want a duration such as \"2s\"", v)
	}
	return d, nil
}

// counts reads an object of request counts by key.
func (b ctlBody) counts(pre, name string) (map[string]int, *fieldError) {
	raw, ok := b[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var m map[string]int
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, badField(pre+name, "want an object of request counts, e.g. {\"1764000000.3\": 2}")
	}
	return m, nil
}

// faultsFrom reads a POST /sim/v1/faults body; the result is valid.
func faultsFrom(b ctlBody) (Faults, *fieldError) {
	var f Faults
	if fe := b.only(faultsFields...); fe != nil {
		return f, fe
	}
	if raw, ok := b["seed"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &f.Seed); err != nil {
			return f, badField("seed", "want an integer")
		}
	}
	rb, fe := b.sub("", "recording_finished", recordingFaultFields)
	if fe != nil {
		return f, fe
	}
	const rp = "recording_finished."
	rf := &f.RecordingFinished
	for _, x := range []struct {
		name string
		dst  *float64
	}{{"drop", &rf.Drop}, {"delay", &rf.Delay}, {"reorder", &rf.Reorder}} {
		if *x.dst, fe = rb.frac(rp, x.name); fe != nil {
			return f, fe
		}
	}
	if rf.DelayBy, fe = rb.dur(rp, "delay_by"); fe != nil {
		return f, fe
	}
	for _, p := range []faultPoint{faultHangup, faultRemoveChannel, faultStopRecording} {
		pb, fe := b.sub("", p.String(), requestFaultFields)
		if fe != nil {
			return f, fe
		}
		pre := p.String() + "."
		q := f.point(p)
		for _, x := range []struct {
			name string
			dst  *float64
		}{{"fail", &q.Fail}, {"stall", &q.Stall}, {"stall_then_do", &q.StallThenDo}} {
			if *x.dst, fe = pb.frac(pre, x.name); fe != nil {
				return f, fe
			}
		}
		if q.StallFor, fe = pb.dur(pre, "stall_for"); fe != nil {
			return f, fe
		}
		if q.FailFirst, fe = pb.counts(pre, "fail_first"); fe != nil {
			return f, fe
		}
		if q.StallFirst, fe = pb.counts(pre, "stall_first"); fe != nil {
			return f, fe
		}
	}
	if fe := f.validate(); fe != nil {
		return f, fe
	}
	return f, nil
}

func (s *Server) ctlGetFaults(r *http.Request) ctlReply {
	return ctlReply{http.StatusOK, faultsJSON(s.Faults())}
}

// ctlSetFaults replaces the fault configuration (SetFaults).
func (s *Server) ctlSetFaults(r *http.Request) ctlReply {
	b, fe := readBody(r)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	f, fe := faultsFrom(b)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if err := s.SetFaults(f); err != nil {
		return ctlFail(http.StatusBadRequest, err.Error())
	}
	s.log.Info("sim: control: faults set", "recording_finished", f.RecordingFinished.String(),
		"hangup", f.Hangup.String(), "remove_channel", f.RemoveChannel.String(), "stop_recording", f.StopRecording.String())
	return ctlReply{http.StatusOK, faultsJSON(s.Faults())}
}

func (s *Server) ctlClearFaults(r *http.Request) ctlReply {
	if err := s.SetFaults(Faults{}); err != nil {
		return ctlFail(http.StatusInternalServerError, err.Error())
	}
	return ctlReply{http.StatusNoContent, nil}
}

func (s *Server) ctlReleaseStalled(r *http.Request) ctlReply {
	return ctlReply{http.StatusOK, map[string]any{"released": s.ReleaseStalled()}}
}

func (s *Server) sessionsJSON() map[string]any {
	st := s.Stats()
	return map[string]any{"limit": s.SessionLimit(), "active": st.Sessions, "refused": st.SessionsRefused}
}

func (s *Server) ctlGetSessions(r *http.Request) ctlReply {
	return ctlReply{http.StatusOK, s.sessionsJSON()}
}

// ctlPutSessions changes the session limit (SetSessionLimit).
func (s *Server) ctlPutSessions(r *http.Request) ctlReply {
	b, fe := readBody(r)
	if fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	if fe := b.only("limit"); fe != nil {
		return fe.reply(http.StatusBadRequest)
	}
	raw, ok := b["limit"]
	var n int
	if !ok || json.Unmarshal(raw, &n) != nil || n < 0 {
		return badField("limit", "want an integer, 0 (unlimited) or more").reply(http.StatusBadRequest)
	}
	if err := s.SetSessionLimit(n); err != nil {
		return badField("limit", "%v", err).reply(http.StatusBadRequest)
	}
	return ctlReply{http.StatusOK, s.sessionsJSON()}
}
