package storage_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/storage"
)

// ackEnv names the database of the child process of
// TestAcknowledgedSurvivesKill; TestMain runs the child instead of the
// tests when it is set.
const ackEnv = "SWITCHBOARD_TEST_ACK_AND_DIE"

func TestMain(m *testing.M) {
	if path := os.Getenv(ackEnv); path != "" {
		ackAndDie(path)
	}
	os.Exit(m.Run())
}

// ackCalls is how many calls the child writes before it kills itself.
const ackCalls = 300

// ackAndDie writes calls from 16 goroutines as the center does, prints
// "acked N" once call N's row is closed (acknowledged), and kills itself
// with SIGKILL after ackCalls, writes still in flight, without Close.
func ackAndDie(path string) {
	ctx := context.Background()
	db, err := storage.Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var next, acked atomic.Int64
	var out sync.Mutex
	for range 16 {
		go func() {
			for {
				i := next.Add(1)
				if err := oneCall(ctx, db, i, t0); err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				out.Lock()
				fmt.Fprintf(os.Stdout, "acked %d\n", i) // one write: whole lines only
				out.Unlock()
				if acked.Add(1) == ackCalls {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
				}
			}
		}()
	}
	select {}
}

// TestAcknowledgedSurvivesKill: a process writing calls from many
// goroutines is killed with SIGKILL; every call whose writes were
// acknowledged is in the database when it is opened again, whole.
func TestAcknowledgedSurvivesKill(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "switchboard.db")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), ackEnv+"="+path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child: %v\n%s", err, stderr.Bytes())
	}
	var acked []int64
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		n, err := strconv.ParseInt(strings.TrimPrefix(sc.Text(), "acked "), 10, 64)
		if err != nil {
			t.Fatalf("child's output %q: %v", sc.Text(), err)
		}
		acked = append(acked, n)
	}
	if len(acked) < ackCalls {
		t.Fatalf("child acknowledged %d calls before dying, want at least %d", len(acked), ackCalls)
	}

	db, err := storage.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, i := range acked {
		checkCall(t, db, i)
	}
	t.Logf("%d calls acknowledged before the kill, all found whole", len(acked))
}

// checkCall checks that call i's writes (oneCall) are all in db.
func checkCall(t *testing.T, db *storage.DB, i int64) {
	t.Helper()
	ctx := context.Background()
	id := fmt.Sprintf("bench-%d", i)
	agent := sb.AgentID(fmt.Sprintf("%d", 1000+i%50))
	rows, _, err := db.ListCDR(ctx, sb.CDRFilter{Agent: agent, Caller: "+15550001", Limit: storage.MaxCDRLimit})
	if err != nil {
		t.Fatal(err)
	}
	var row *sb.CDR
	for k := range rows {
		if string(rows[k].CallID) == id {
			row = &rows[k]
		}
	}
	switch {
	case row == nil:
		t.Errorf("call %s: no closed row", id)
		return
	case row.Outcome != sb.OutcomeCompleted || !row.Answered.Valid || !row.Bridged.Valid || row.ID == 0:
		t.Errorf("call %s: row %+v", id, *row)
	}
	at := row.Entered
	states, err := db.AgentStates(ctx, agent, at, at.Add(91*time.Second), storage.MaxCDRLimit)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range states {
		if string(s.CallID) == id {
			got = append(got, s.State)
		}
	}
	if strings.Join(got, " ") != "reserved on-call wrap-up" {
		t.Errorf("call %s: agent states %v, want reserved on-call wrap-up", id, got)
	}
}

// TestConcurrentCallWrites: calls written from many goroutines at once
// (each write its caller's own, grouped by the writer), with readers
// listing meanwhile, are all committed and read back whole.
func TestConcurrentCallWrites(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	const calls = 400
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range 32 {
		wg.Go(func() {
			for i := next.Add(1); i <= calls; i = next.Add(1) {
				if err := oneCall(ctx, db, i, t0); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				if _, _, err := db.ListCDR(ctx, sb.CDRFilter{Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n, err := db.CountCDR(ctx); err != nil || n != calls {
		t.Fatalf("CountCDR = %d, %v; want %d", n, err, calls)
	}
	for i := int64(1); i <= calls; i++ {
		checkCall(t, db, i)
	}
	open, err := db.OpenCDRs(ctx, "pbx1", t0.Add(time.Hour))
	if err != nil || len(open) != 0 {
		t.Errorf("open rows left: %d, %v", len(open), err)
	}
}
