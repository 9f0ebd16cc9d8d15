package registry

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr"
)

const mainFlow = `flows:
  main:
    nodes:
      hello: {play: [sound:hello-world], next: q}
      q: {queue: sales}
`

const cfgBody = `asterisk: {username: sb, password: pw}
agents:
  - id: "1001"
    endpoint: PJSIP/1001
queues:
  - name: sales
ivr:
  flows_dir: flows
  routes:
    - dnis: "*"
      flow: main
`

// files writes a configuration with flows_dir flows/ holding main.yaml.
func files(t *testing.T, cfg, flow string) (cfgPath, flowPath string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "flows"), 0o755); err != nil {
		t.Fatal(err)
	}
	flowPath = filepath.Join(dir, "flows", "main.yaml")
	cfgPath = filepath.Join(dir, "switchboard.yaml")
	write(t, flowPath, flow)
	write(t, cfgPath, cfg)
	return cfgPath, flowPath
}

func write(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, path string) *config.Config {
	t.Helper()
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// loaded is a log handler that reports each "IVR flows loaded" line.
type loaded struct {
	slog.Handler
	ch chan int64 // the version
}

func (h loaded) Enabled(context.Context, slog.Level) bool { return true }
func (h loaded) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "IVR flows loaded" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "version" {
				h.ch <- a.Value.Int64()
			}
			return true
		})
	}
	return nil
}

func newRegistry(t *testing.T, cfgPath string) (*Registry, chan int64) {
	t.Helper()
	cfg := load(t, cfgPath)
	cals, err := cfg.CalendarSet()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan int64, 10)
	r, err := New(cfg, cals, slog.New(loaded{Handler: slog.DiscardHandler, ch: ch}))
	if err != nil {
		t.Fatal(err)
	}
	return r, ch
}

func TestReload(t *testing.T) {
	cfgPath, flowPath := files(t, cfgBody, mainFlow)
	r, _ := newRegistry(t, cfgPath)
	st := r.Status()
	if st.Version != 1 || len(st.Flows) != 1 || st.Flows[0] != "main" || len(st.Files) == 0 || st.LastError != "" {
		t.Fatalf("at start: %+v", st)
	}
	first := r.Current()

	// Unchanged files: the version stays.
	if st, err := r.Reload("test"); err != nil || st.Version != 1 || r.Current() != first {
		t.Fatalf("unchanged reload: %+v, %v", st, err)
	}

	// A broken file is refused with its line; the running set stays.
	write(t, flowPath, strings.Replace(mainFlow, "next: q", "next: nowhere", 1))
	st, err := r.Reload("test")
	var e *sb.Error
	if !errors.As(err, &e) || e.Code != sb.EUNPROCESSABLE || !strings.Contains(err.Error(), "main.yaml:4") {
		t.Fatalf("broken reload: err %v, want EUNPROCESSABLE naming main.yaml:4", err)
	}
	if st.Version != 1 || !strings.Contains(st.LastError, "nowhere") || r.Current() != first {
		t.Fatalf("after a refused reload: %+v", st)
	}

	// A good change is the next version, and clears the error.
	write(t, flowPath, strings.Replace(mainFlow, "hello-world", "tt-monkeys", 1))
	st, err = r.Reload("test")
	if err != nil || st.Version != 2 || st.LastError != "" || r.Current() == first || r.Current().Version != 2 {
		t.Fatalf("good reload: %+v, %v", st, err)
	}
}

// TestRefusedSets: a set that loads but does not fit the configuration (a
// route or a queue exit naming a flow it lacks) is refused, at the place
// in the configuration file.
func TestRefusedSets(t *testing.T) {
	for _, tt := range []struct {
		name, cfg, want string
		flowProblem     bool // an ivr.ValidationError (else the configuration's own error)
	}{
		{"route", strings.Replace(cfgBody, "flow: main", "flow: mian", 1), `switchboard.yaml:11: ivr.routes[0].flow: no flow named "mian"`, true},
		{"queue exit", strings.Replace(cfgBody, "  - name: sales", "  - name: sales\n    max_wait_target: vm", 1), `switchboard.yaml:7: queues[0].max_wait_target: no flow named "vm"`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfgPath, _ := files(t, tt.cfg, mainFlow)
			cfg := load(t, cfgPath)
			cals, _ := cfg.CalendarSet()
			if _, err := New(cfg, cals, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want %q", err, tt.want)
			}
			_, err := Load(cfg)
			var ve *ivr.ValidationError
			if errors.As(err, &ve) != tt.flowProblem || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load: %v, want %q (flow problem: %v)", err, tt.want, tt.flowProblem)
			}
		})
	}
}

func TestEmbeddedDemoFlows(t *testing.T) {
	cfg, err := config.Demo()
	if err != nil {
		t.Fatal(err)
	}
	set, err := Load(cfg)
	if err != nil || len(set.Flows) == 0 {
		t.Fatalf("demo flows: %v, %v", set, err)
	}
	cals, _ := cfg.CalendarSet()
	r, err := New(cfg, cals, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Watch()
	if w != nil || err != nil {
		t.Fatalf("Watch of the embedded configuration = %v, %v; want nothing to watch", w, err)
	}
	w.Run(context.Background()) // returns at once
}

// TestWatchReloadsOnChange: saving a flow file is enough.
func TestWatchReloadsOnChange(t *testing.T) {
	cfgPath, flowPath := files(t, cfgBody, mainFlow)
	r, versions := newRegistry(t, cfgPath)
	if v := <-versions; v != 1 {
		t.Fatalf("first version %d", v)
	}
	w, err := r.Watch()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.Run(ctx)
		close(done)
	}()
	write(t, flowPath, strings.Replace(mainFlow, "hello-world", "tt-monkeys", 1))
	select {
	case v := <-versions:
		if v != 2 || r.Status().Version != 2 {
			t.Fatalf("reloaded version %d, status %+v", v, r.Status())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the changed flow file was not loaded")
	}
	cancel()
	<-done
}
