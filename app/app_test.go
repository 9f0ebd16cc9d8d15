package app

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchboard/switchboard/config"
)

// TestCloseEndsEveryGoroutine: a controller with every part switched on
// (router, campaigns, queue statistics, watched flow files) leaves no
// goroutine behind once closed.
func TestCloseEndsEveryGoroutine(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, 50)
	cfgPath := simConfig(t, s, "right-password")
	body, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	extra := "queues:\n  - name: sales\nrouting:\n  engine: router\n"
	if err := os.WriteFile(cfgPath, append(body, extra...), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	baseline := ownGoroutines()
	a, err := Start(ctx, cfg, slog.New(slog.DiscardHandler), Options{Clock: simClock{s.Clock()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, 10*time.Second, func() bool {
		return a.PBX.Ready() && slices.Contains(s.Apps(), "switchboard")
	}); err != nil {
		a.Close()
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Only the controller's goroutines count: the simulator in this process
	// winds down the connections it served on its own time (beside a CPU
	// hog one took over 10 s, and the test failed with nothing of the
	// controller's left).
	if err := waitFor(ctx, 10*time.Second, func() bool { return ownGoroutines() <= baseline }); err != nil {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines of the controller after Close, %d before Start:\n%s", ownGoroutines(), baseline, stacks(buf[:n]))
	}
}

// ownGoroutines counts the goroutines that are not the simulator's (no
// frame of package sim in their stack).
func ownGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	k := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if !strings.Contains(g, "switchboard/switchboard/sim.") {
			k++
		}
	}
	return k
}

// TestStartFailureReleases: a step that fails (here the HTTP listener, the
// last one) closes what the steps before it opened.
func TestStartFailureReleases(t *testing.T) {
	ctx := context.Background()
	s := startSim(t, 50)
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	body, err := os.ReadFile(simConfig(t, s, "right-password"))
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := writeFile(t, "busy.yaml", strings.Replace(string(body), "127.0.0.1:0", busy.Addr().String(), 1)+
		"queues:\n  - name: sales\nrouting:\n  engine: router\n  queue_log: "+filepath.Join(t.TempDir(), "queue_log")+"\n")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	baseline := runtime.NumGoroutine()
	if _, err := Start(ctx, cfg, slog.New(slog.DiscardHandler), Options{}); err == nil || !strings.Contains(err.Error(), "http listen") {
		t.Fatalf("Start on a busy port: %v", err)
	}
	if err := waitFor(ctx, 10*time.Second, func() bool { return runtime.NumGoroutine() <= baseline }); err != nil {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("%d goroutines after a failed Start, %d before:\n%s", runtime.NumGoroutine(), baseline, stacks(buf[:n]))
	}
}

// stacks keeps the goroutines of Switchboard's own code.
func stacks(b []byte) string {
	var out []string
	for _, g := range strings.Split(string(b), "\n\n") {
		if strings.Contains(g, "switchboard/") {
			out = append(out, g)
		}
	}
	return strings.Join(out, "\n\n")
}
