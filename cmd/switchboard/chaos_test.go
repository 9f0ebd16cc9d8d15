package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/campaign"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/recording"
	"github.com/switchboard/switchboard/sim"
	"github.com/switchboard/switchboard/storage"
)

// The chaos test's cast: inbound agents on queue support, the predictive
// campaign's agents on queue outbound, the progressive one's on outbound2.
var (
	chaosInbound  = []string{"1001", "1002", "1003"}
	chaosPredAg   = []string{"2001", "2002", "2003"}
	chaosProgAg   = []string{"2004", "2005"}
	chaosPred     = "chaos-pred"
	chaosProg     = "chaos-prog"
	chaosKills    = 5
	chaosSeedEnv  = "SWITCHBOARD_CHAOS_SEED"
	chaosAgentEps = map[string]bool{}
)

func init() {
	for _, a := range slices.Concat(chaosInbound, chaosPredAg, chaosProgAg) {
		chaosAgentEps["PJSIP/"+a] = true
	}
}

// chaosServe is one serve process of the chaos test.
type chaosServe struct {
	out  *syncBuf
	done chan error
	pid  int
	base string
}

func startChaosServe(t *testing.T, cfg string) *chaosServe {
	t.Helper()
	cmd := childCommand("serve", "--config", cfg)
	p := &chaosServe{out: &syncBuf{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if dir := os.Getenv("SWITCHBOARD_CHAOS_LOGS"); dir != "" {
		// Each run's log kept, for a failure to be read.
		f, err := os.CreateTemp(dir, "serve-*.log")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		cmd.Stdout = io.MultiWriter(p.out, f)
		cmd.Stderr = cmd.Stdout
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.pid = cmd.Process.Pid
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
		p.done <- nil
	})
	deadline := time.Now().Add(30 * time.Second)
	for p.base == "" {
		if m := benchStarted.FindStringSubmatch(p.out.String()); m != nil {
			p.base = "http://" + m[1]
			break
		}
		select {
		case err := <-p.done:
			t.Fatalf("serve exited at start (%v):\n%s", err, p.out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", p.out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return p
}

// ready waits until /healthz answers 200 and returns how long it took.
func (p *chaosServe) ready(t *testing.T) time.Duration {
	t.Helper()
	start := time.Now()
	err := waitFor(context.Background(), 30*time.Second, func() bool {
		resp, err := http.Get(p.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		t.Fatalf("serve not ready: %v\n%s", err, p.out)
	}
	return time.Since(start)
}

func (p *chaosServe) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(p.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := <-p.done; err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("serve after SIGKILL: %v", err)
	}
	p.done <- nil
}

// stop ends serve as an operator does: SIGTERM, drain, exit 0.
func (p *chaosServe) stop(t *testing.T) {
	t.Helper()
	syscall.Kill(p.pid, syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- nil
		if err != nil {
			t.Fatalf("serve after SIGTERM: %v\n%s", err, p.out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", p.out)
	}
}

// killFigures is what one kill caught in flight.
type killFigures struct {
	at                                         time.Duration // since the traffic started
	channels, talking, ringing, recording, amd int
	down, ready                                time.Duration
}

func (k killFigures) String() string {
	return fmt.Sprintf("kill at %5.1fs: %2d channels, %d conversations, %d campaign calls ringing, %d in AMD, %d recordings live; down %v, ready %v after restart",
		k.at.Seconds(), k.channels, k.talking, k.ringing, k.amd, k.recording, k.down.Round(time.Millisecond), k.ready.Round(time.Millisecond))
}

// inFlight reads the simulator at a kill.
func inFlight(s *sim.Server) killFigures {
	var f killFigures
	members := map[string]int{}
	for _, ch := range s.Channels() {
		f.channels++
		if ch.Bridge != "" {
			members[ch.Bridge]++
		}
		if strings.Contains(ch.Name, "@trunk") && ch.State != "Up" {
			f.ringing++
		}
		if strings.Contains(ch.Name, "@trunk") && ch.State == "Up" && !ch.InApp && ch.Bridge == "" {
			f.amd++
		}
	}
	for _, n := range members {
		if n >= 2 {
			f.talking++
		}
	}
	f.recording = len(s.LiveRecordingNames())
	return f
}

// TestChaosKillNine: inbound callers and a predictive and a progressive
// campaign run against the simulated Asterisk with every call recorded,
// while serve (a real process) is killed with SIGKILL five times at seeded
// random moments and started again. At the end, from the database and
// the PBX's own records: no lead dialed again after it talked to an agent,
// no attempt open, no call without its call-log row, no recording neither
// stored nor failed, no channel or bridge left, and an attempt is
// abandoned exactly when its person was never put through to an agent.
func TestChaosKillNine(t *testing.T) {
	seed := uint64(11)
	if v := os.Getenv(chaosSeedEnv); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", chaosSeedEnv, v, err)
		}
		seed = n
	}
	t.Logf("seed %d (set %s to replay another)", seed, chaosSeedEnv)
	rng := rand.New(rand.NewPCG(seed, 0xc4a05))

	s := sim.New(sim.Options{User: "sb", Password: "right-password", Speed: 1, Seed: int64(seed), KeepCallLog: true})
	for _, a := range chaosInbound {
		s.AddEndpoint("PJSIP", a, sim.Party{Rings: 1, Talk: 10 * time.Minute})
	}
	for _, a := range slices.Concat(chaosPredAg, chaosProgAg) {
		// Agents on campaigns answer at once: a person must have one
		// within 2 s. All but one: a person offered to 2003, who lets
		// the phone ring, is abandoned.
		p := sim.Party{Rings: 0, Talk: 10 * time.Minute}
		if a == "2003" {
			p.Rings = 2
		}
		s.AddEndpoint("PJSIP", a, p)
	}
	leads := map[string][]string{chaosPred: nil, chaosProg: nil}
	for _, camp := range []string{chaosPred, chaosProg} {
		for i := range map[string]int{chaosPred: 24, chaosProg: 16}[camp] {
			number := fmt.Sprintf("+1555%03d%04d", len(camp), i)
			if camp == chaosProg {
				number = fmt.Sprintf("+1556000%04d", i)
			}
			var p sim.Party
			switch u := rng.Float64(); {
			case u < 0.55:
				p = sim.Party{Rings: 1 + rng.IntN(3), Talk: time.Duration(4+rng.IntN(9)) * time.Second}
			case u < 0.70:
				p = sim.Party{Busy: true}
			case u < 0.85:
				p = sim.Party{NoAnswer: true}
			default:
				p = sim.Party{Rings: 1 + rng.IntN(2), Machine: true, Talk: 20 * time.Second}
			}
			s.AddEndpoint("PJSIP", number+"@trunk", p)
			leads[camp] = append(leads[camp], number)
		}
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })

	dir := t.TempDir()
	dsn := filepath.Join(dir, "sb.db")
	cfg := writeFile(t, "chaos.yaml", chaosConfig(s, dsn, filepath.Join(dir, "recordings")))
	seedChaosCampaigns(t, dsn, leads)

	// Inbound callers, at seeded random moments, until stopTraffic.
	stopTraffic, trafficDone := make(chan struct{}), make(chan int)
	go func() {
		placed := 0
		r := rand.New(rand.NewPCG(seed, 0x1b0d))
		for {
			select {
			case <-stopTraffic:
				trafficDone <- placed
				return
			case <-time.After(time.Duration(r.ExpFloat64() * float64(1200*time.Millisecond))):
			}
			talk := time.Duration(4+r.IntN(8)) * time.Second
			_, err := s.Call(sim.Inbound{App: "switchboard", From: fmt.Sprintf("+1557%07d", placed), To: "8000",
				Party: sim.Party{Talk: talk, Patience: 40 * time.Second}})
			if err == nil {
				placed++ // while serve is down Asterisk refuses the call (no application)
			}
		}
	}()

	begin := time.Now()
	p := startChaosServe(t, cfg)
	p.ready(t)
	var kills []killFigures
	for range chaosKills {
		time.Sleep(time.Duration(3000+rng.IntN(5000)) * time.Millisecond) // the seeded moment of the kill
		f := inFlight(s)
		f.at = time.Since(begin)
		p.kill(t)
		f.down = time.Duration(200+rng.IntN(2300)) * time.Millisecond
		time.Sleep(f.down)
		p = startChaosServe(t, cfg)
		f.ready = p.ready(t)
		kills = append(kills, f)
	}
	time.Sleep(5 * time.Second) // the last run takes traffic too
	close(stopTraffic)
	placed := <-trafficDone
	for _, c := range []string{chaosPred, chaosProg} {
		if code, body := request(t, "POST", p.base+"/api/v1/campaigns/"+c+"/pause", "test-token", ""); code != http.StatusNoContent && code != http.StatusOK {
			t.Fatalf("pause %s: %d %s", c, code, body)
		}
	}
	if err := waitFor(context.Background(), 90*time.Second, func() bool { return len(s.Channels()) == 0 && len(s.Bridges()) == 0 }); err != nil {
		t.Errorf("channels %v and bridges %v still up on the PBX at the end", s.Channels(), s.Bridges())
	}
	p.stop(t)
	for _, k := range kills {
		t.Log(k)
	}

	db, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkChaos(t, db, s.CallLog(), leads, placed)
	if chs, brs := s.Channels(), s.Bridges(); len(chs) != 0 || len(brs) != 0 {
		t.Errorf("left on the PBX: channels %v, bridges %v", chs, brs)
	}
}

func chaosConfig(s *sim.Server, dsn, recDir string) string {
	quote := func(ids []string) string { return `["` + strings.Join(ids, `", "`) + `"]` }
	var agents strings.Builder
	for _, a := range slices.Concat(chaosInbound, chaosPredAg, chaosProgAg) {
		fmt.Fprintf(&agents, "  - {id: %q, endpoint: PJSIP/%s}\n", a, a)
	}
	return fmt.Sprintf(`http:
  listen: 127.0.0.1:0
database:
  dsn: %s
asterisk:
  url: %s
  username: sb
  password: right-password
  reconnect_min: 50ms
  reconnect_max: 200ms
center:
  greeting: ["sound:hello-world"]
  wait_for_agent: 40s
  agent_ring_timeout: 15s
agents:
%squeues:
  - {name: support, agents: %s}
  - {name: outbound, agents: %s}
  - {name: outbound2, agents: %s}
ivr:
  flows_dir: ""
  routes:
    - {dnis: "*", flow: main}
flows:
  main:
    start: q
    nodes:
      q: {queue: support}
recording:
  dir: %s
  policies:
    default: {mode: always}
api:
  tokens:
    - name: ops
      role: admin
      sha256: %s
`, dsn, s.URL(), agents.String(), quote(chaosInbound), quote(chaosPredAg), quote(chaosProgAg), recDir, config.HashToken("test-token"))
}

// seedChaosCampaigns stores the two campaigns, running, with their leads.
func seedChaosCampaigns(t *testing.T, dsn string, leads map[string][]string) {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for name, mode := range map[string]sb.CampaignMode{chaosPred: sb.PredictiveDialing, chaosProg: sb.ProgressiveDialing} {
		c := campaign.Default(name)
		c.Mode = mode
		c.Queue = map[string]string{chaosPred: "outbound", chaosProg: "outbound2"}[name]
		c.AMD = name == chaosPred
		c.Window = sb.CallingWindow{Start: 0, End: 24 * 60}
		c.Schedule.Days = []time.Weekday{time.Sunday, time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday}
		c.CallerID = `"Chaos" <+15550100>`
		c.AbandonMessage = "sound:vm-goodbye"
		c.RingTime = 15 * time.Second
		if err := db.CreateCampaign(ctx, c, now); err != nil {
			t.Fatal(err)
		}
		var batch []sb.Lead
		for _, n := range leads[name] {
			batch = append(batch, sb.Lead{Campaign: name, Number: n, Region: "US", TimeZone: "UTC"})
		}
		if _, err := db.UpsertLeads(ctx, batch, now); err != nil {
			t.Fatal(err)
		}
		if err := db.SetCampaignState(ctx, name, sb.CampaignRunning, now); err != nil {
			t.Fatal(err)
		}
	}
}

// checkChaos compares the database with the simulator's call log.
func checkChaos(t *testing.T, db *storage.DB, log []sim.CallRecord, leads map[string][]string, placed int) {
	t.Helper()
	ctx := context.Background()
	byChannel := map[string]sim.CallRecord{}
	for _, r := range log {
		byChannel[r.Channel] = r
	}
	metAgent := func(r sim.CallRecord) bool { return chaosAgentEps[r.MetEndpoint] }
	// A person who answered. One who answered while no serve was up was
	// hung up by Asterisk (no application to enter), after the abandon
	// message when it came back from AMD: the campaign dialplan's hangup
	// handler recorded it, and the next start closes it as abandoned with
	// its call-log row, like any person no agent took (unattended).
	person := func(r sim.CallRecord) bool { return !r.Answered.IsZero() && r.AMD != "MACHINE" }
	unattended := 0
	for _, r := range log {
		if r.NoApp && r.AMD != "MACHINE" && strings.HasSuffix(r.Endpoint, "@trunk") {
			unattended++
			if !r.Unattended {
				t.Errorf("%s answered while no serve was up, but its hangup handler recorded nothing", r.Channel)
			}
		}
	}

	// 1. No lead dialed again after it talked to an agent.
	var redialed []string
	dials := map[string][]sim.CallRecord{}
	for _, r := range log {
		if n, ok := strings.CutSuffix(strings.TrimPrefix(r.Endpoint, "PJSIP/"), "@trunk"); ok {
			dials[n] = append(dials[n], r)
		}
	}
	campaignDials, conversations := 0, 0
	for n, rs := range dials {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Created.Before(rs[j].Created) })
		campaignDials += len(rs)
		for i, r := range rs {
			if metAgent(r) {
				conversations++
				if i < len(rs)-1 {
					redialed = append(redialed, fmt.Sprintf("%s (talked on %s, dialed again as %s)", n, r.Channel, rs[i+1].Channel))
				}
			}
		}
	}
	if len(redialed) > 0 {
		t.Errorf("%d leads dialed again after a conversation: %v", len(redialed), redialed)
	}

	// 2. No attempt open; 6. abandoned exactly when no agent came.
	var open, wrongAbandon []string
	abandoned, reallyAbandoned, attempts, late := 0, 0, 0, 0
	var maxWait time.Duration
	for camp, numbers := range leads {
		for _, n := range numbers {
			l, err := db.Lead(ctx, camp, n)
			if err != nil {
				t.Fatal(err)
			}
			if l.State == sb.LeadDialing {
				open = append(open, "lead "+n+" still dialing")
			}
			atts, err := db.Attempts(ctx, l.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range atts {
				attempts++
				if a.State != storage.AttemptDone {
					open = append(open, fmt.Sprintf("attempt %d (%s) %s", a.ID, n, a.State))
					continue
				}
				r, dialed := byChannel[a.ChannelID]
				gotAbandoned := a.Outcome == sb.DialAbandoned
				if gotAbandoned {
					abandoned++
				}
				wantAbandoned := dialed && person(r) && !metAgent(r)
				if wantAbandoned {
					reallyAbandoned++
				}
				if gotAbandoned != wantAbandoned {
					wrongAbandon = append(wrongAbandon, fmt.Sprintf("attempt %d (%s) %s, but the PBX says created %s answered %s, AMD %q, met %q, ended %s cause %d",
						a.ID, a.ChannelID, a.Outcome, r.Created.Format("15:04:05.000"), r.Answered.Format("15:04:05.000"), r.AMD, r.MetEndpoint, r.Ended.Format("15:04:05.000"), r.Cause))
				}
				if dialed && metAgent(r) {
					there := r.Answered
					if r.AMD != "" {
						there = r.AMDDone
					}
					wait := r.MetAt.Sub(there)
					maxWait = max(maxWait, wait)
					if wait > 2*time.Second {
						late++
					}
					if a.Outcome != sb.DialAnswered || a.Agent == "" {
						wrongAbandon = append(wrongAbandon, fmt.Sprintf("attempt %d (%s) talked to %s but closed %s, agent %q", a.ID, a.ChannelID, r.MetEndpoint, a.Outcome, a.Agent))
					}
				}
			}
		}
	}
	if len(open) > 0 {
		t.Errorf("%d attempts or leads open: %v", len(open), open)
	}
	if len(wrongAbandon) > 0 {
		t.Errorf("attempts closed against what happened on the PBX:\n  %s", strings.Join(wrongAbandon, "\n  "))
	}
	if late > 0 {
		t.Errorf("%d campaign calls put through more than 2 s after the person answered (longest %v): they were abandoned calls", late, maxWait)
	}

	// 3. Every call has its call-log row.
	rows := map[string]sb.CDR{}
	for off := 0; ; {
		page, total, err := db.ListCDR(ctx, sb.CDRFilter{Limit: 1000, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if _, dup := rows[string(r.CallID)]; dup {
				t.Errorf("two call-log rows for %s", r.CallID)
			}
			rows[string(r.CallID)] = r
		}
		off += len(page)
		if len(page) == 0 || off >= total {
			break
		}
	}
	if openRows, err := db.OpenCDRs(ctx, "sim-asterisk", time.Now().Add(time.Hour)); err != nil || len(openRows) != 0 {
		t.Errorf("call-log rows left open: %d (%v)", len(openRows), err)
	}
	var noRow []string
	inbound := 0
	for _, r := range log {
		needs := r.Inbound && r.Endpoint == "PJSIP/trunk"
		if needs {
			inbound++
		}
		if strings.HasSuffix(r.Endpoint, "@trunk") && person(r) {
			needs = true
		}
		if needs {
			if _, ok := rows[r.Channel]; !ok {
				noRow = append(noRow, r.Channel)
			}
		}
	}
	if len(noRow) > 0 {
		t.Errorf("%d calls without a call-log row: %v", len(noRow), noRow)
	}

	// 4. Every recording stored or failed, and every conversation recorded.
	recs, _, err := db.ListRecordings(ctx, recording.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	states := map[recording.State]int{}
	recorded := map[string]bool{}
	for _, rec := range recs {
		states[rec.State]++
		recorded[string(rec.CallID)] = true
		switch rec.State {
		case recording.StateStored:
		case recording.StateFailed:
			if rec.Error == "" {
				t.Errorf("recording %s failed without a reason", rec.Name)
			}
		default:
			t.Errorf("recording %s of %s is %s at the end", rec.Name, rec.CallID, rec.State)
		}
	}
	var unrecorded []string
	inboundTalks := 0
	for _, r := range log {
		if (r.Inbound && r.Endpoint == "PJSIP/trunk" || strings.HasSuffix(r.Endpoint, "@trunk")) && metAgent(r) {
			if r.Inbound {
				inboundTalks++
			}
			if !recorded[r.Channel] {
				unrecorded = append(unrecorded, r.Channel)
			}
		}
	}
	if len(unrecorded) > 0 {
		t.Errorf("%d conversations with no recording: %v", len(unrecorded), unrecorded)
	}
	t.Logf("totals: %d inbound calls placed (%d in the PBX log, %d talked to an agent), %d campaign dials (%d attempts, %d conversations), "+
		"%d call-log rows, abandoned %d (the PBX says %d, of which %d answered while no serve was up), longest wait for an agent %v, recordings %v",
		placed, inbound, inboundTalks, campaignDials, attempts, conversations, len(rows), abandoned, reallyAbandoned, unattended, maxWait.Round(time.Millisecond), states)
}
