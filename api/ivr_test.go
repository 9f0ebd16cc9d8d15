package api

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/switchboard/switchboard"
)

// fakeRegistry is an IVRRegistry whose reload result a test chooses.
type fakeRegistry struct {
	status   IVRStatus
	ReloadFn func(reason string) (IVRStatus, error)
}

func (f *fakeRegistry) Status() IVRStatus { return f.status }
func (f *fakeRegistry) Reload(reason string) (IVRStatus, error) {
	return f.ReloadFn(reason)
}

type fakeVoicemails struct {
	ListFn func(mailboxes []string, limit int) ([]switchboard.Voicemail, error)
}

func (f fakeVoicemails) ListVoicemails(_ context.Context, mailboxes []string, limit int) ([]switchboard.Voicemail, error) {
	return f.ListFn(mailboxes, limit)
}

var (
	_ IVRRegistry     = (*fakeRegistry)(nil)
	_ VoicemailLister = fakeVoicemails{}
)

func ivrServer(t *testing.T, reg *fakeRegistry, vm fakeVoicemails) *testServer {
	return newTestServer(t, Options{}, func(s *Server) { s.AddIVRRoutes(reg, vm) })
}

func TestIVRStatusAndReload(t *testing.T) {
	reg := &fakeRegistry{status: IVRStatus{Version: 3, Checksum: "abc", Flows: []string{"main"}, Loaded: time.Unix(0, 0).UTC()}}
	var reasons []string
	reg.ReloadFn = func(reason string) (IVRStatus, error) {
		reasons = append(reasons, reason)
		if len(reasons) == 1 {
			st := reg.status
			st.Version = 4
			return st, nil
		}
		return reg.status, switchboard.Errorf(switchboard.EUNPROCESSABLE, "flows/main.yaml:7: flow main node menu: unknown node \"nowhere\"")
	}
	ts := ivrServer(t, reg, fakeVoicemails{})
	var st IVRStatus
	ts.do(t, "GET", "/api/v1/ivr", supervisorToken).decode(t, &st)
	if st.Version != 3 || st.Checksum != "abc" || !slices.Equal(st.Flows, []string{"main"}) {
		t.Fatalf("status = %+v", st)
	}
	if r := ts.do(t, "POST", "/api/v1/ivr/reload", supervisorToken); r.Status != http.StatusForbidden {
		t.Errorf("supervisor reload = %d, want 403", r.Status)
	}
	ts.do(t, "POST", "/api/v1/ivr/reload", adminToken).decode(t, &st)
	if st.Version != 4 {
		t.Errorf("after reload version = %d", st.Version)
	}
	r := ts.do(t, "POST", "/api/v1/ivr/reload", adminToken)
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("broken reload = %d %s, want 422", r.Status, r.Body)
	}
	if e := r.errBody(t); e.Code != switchboard.EUNPROCESSABLE || e.Message == "" {
		t.Errorf("error = %+v", e)
	}
	if len(reasons) != 2 || reasons[0] != "api:ops-admin" {
		t.Errorf("reload reasons = %q", reasons)
	}
}

func TestVoicemailList(t *testing.T) {
	var gotBox []string
	var gotLimit int
	vm := fakeVoicemails{ListFn: func(mailboxes []string, limit int) ([]switchboard.Voicemail, error) {
		gotBox, gotLimit = mailboxes, limit
		return []switchboard.Voicemail{{ID: 1, Mailbox: "sales", Recording: "r1", Duration: 3 * time.Second}}, nil
	}}
	ts := ivrServer(t, &fakeRegistry{}, vm)
	var body struct{ Voicemails []switchboard.Voicemail }
	ts.do(t, "GET", "/api/v1/voicemails?mailbox=sales&limit=5", supervisorToken).decode(t, &body)
	if !slices.Equal(gotBox, []string{"sales"}) || gotLimit != 5 || len(body.Voicemails) != 1 || body.Voicemails[0].Recording != "r1" {
		t.Fatalf("box %q limit %d body %+v", gotBox, gotLimit, body)
	}
	for _, bad := range []string{"limit=0", "limit=x", "limit=1001"} {
		if r := ts.do(t, "GET", "/api/v1/voicemails?"+bad, supervisorToken); r.Status != http.StatusBadRequest {
			t.Errorf("%s = %d, want 400", bad, r.Status)
		}
	}
	if r := ts.do(t, "GET", "/api/v1/voicemails", agentToken); r.Status != http.StatusForbidden {
		t.Errorf("agent = %d, want 403", r.Status)
	}
}
