package queuelog

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Unix(1366720340, 0)

func TestFormatAsteriskShapes(t *testing.T) {
	const id = "1366720340.303267"
	s := time.Second
	for _, tc := range []struct {
		got  Event
		want string
	}{
		{EnterQueue(t0, id, "support", "", "5551234", 1), "1366720340|1366720340.303267|support|NONE|ENTERQUEUE||5551234|1"},
		{Connect(t0, id, "support", "PJSIP/1001", 12*s, "1366720352.7", 4500*time.Millisecond), "1366720340|1366720340.303267|support|PJSIP/1001|CONNECT|12|1366720352.7|4"},
		{CompleteAgent(t0, id, "support", "PJSIP/1001", 12*s, 185*s, 3), "1366720340|1366720340.303267|support|PJSIP/1001|COMPLETEAGENT|12|185|3"},
		{CompleteCaller(t0, id, "support", "PJSIP/1001", 12*s, 185*s, 3), "1366720340|1366720340.303267|support|PJSIP/1001|COMPLETECALLER|12|185|3"},
		{Abandon(t0, id, "support", 2, 5, 47*s), "1366720340|1366720340.303267|support|NONE|ABANDON|2|5|47"},
		{RingNoAnswer(t0, id, "support", "PJSIP/1001", 15*s), "1366720340|1366720340.303267|support|PJSIP/1001|RINGNOANSWER|15000"},
		{RingCanceled(t0, id, "support", "PJSIP/1001", 2345*time.Millisecond), "1366720340|1366720340.303267|support|PJSIP/1001|RINGCANCELED|2345"},
		{ExitWithTimeout(t0, id, "support", 1, 4, 300*s), "1366720340|1366720340.303267|support|NONE|EXITWITHTIMEOUT|1|4|300"},
		{ExitEmpty(t0, id, "support", 1, 1, 3*s), "1366720340|1366720340.303267|support|NONE|EXITEMPTY|1|1|3"},
		{ExitWithKey(t0, id, "support", "5", 2, 3, 61*s), "1366720340|1366720340.303267|support|NONE|EXITWITHKEY|5|2|3|61"},
		{Full(t0, id, "support"), "1366720340|1366720340.303267|support|NONE|FULL|"},
		{JoinEmpty(t0, id, "support"), "1366720340|1366720340.303267|support|NONE|JOINEMPTY|"},
		{Pause(t0, "support", "PJSIP/1001", "lunch"), "1366720340|NONE|support|PJSIP/1001|PAUSE|lunch"},
		{Unpause(t0, "support", "PJSIP/1001", ""), "1366720340|NONE|support|PJSIP/1001|UNPAUSE|"},
		{PauseAll(t0, "PJSIP/1001"), "1366720340|NONE|NONE|PJSIP/1001|PAUSEALL|"},
		{UnpauseAll(t0, "PJSIP/1001"), "1366720340|NONE|NONE|PJSIP/1001|UNPAUSEALL|"},
		{AddMember(t0, "support", "PJSIP/1001"), "1366720340|NONE|support|PJSIP/1001|ADDMEMBER|"},
		{RemoveMember(t0, "support", "PJSIP/1001"), "1366720340|NONE|support|PJSIP/1001|REMOVEMEMBER|"},
		{AgentLogin(t0, id, "Agent/1001", "PJSIP/1001-0000002a"), "1366720340|1366720340.303267|NONE|Agent/1001|AGENTLOGIN|PJSIP/1001-0000002a"},
		{AgentLogoff(t0, id, "Agent/1001", "PJSIP/1001-0000002a", 8*time.Hour), "1366720340|1366720340.303267|NONE|Agent/1001|AGENTLOGOFF|PJSIP/1001-0000002a|28800"},
		{QueueStart(t0), "1366720340|NONE|NONE|NONE|QUEUESTART|"},
		{ConfigReload(t0), "1366720340|NONE|NONE|NONE|CONFIGRELOAD|"},
		{BlindTransfer(t0, id, "support", "PJSIP/1001", "2000", "internal", 12*s, 60*s, 1), "1366720340|1366720340.303267|support|PJSIP/1001|BLINDTRANSFER|2000|internal|12|60|1"},
		{AttendedTransfer(t0, id, "support", "PJSIP/1001", DestBridge, []string{"b7c1"}, 12*s, 60*s, 1), "1366720340|1366720340.303267|support|PJSIP/1001|ATTENDEDTRANSFER|BRIDGE|b7c1|12|60|1"},
		{AttendedTransfer(t0, id, "support", "PJSIP/1001", DestLink, []string{"Local/a", "Local/b"}, 12*s, 60*s, 2), "1366720340|1366720340.303267|support|PJSIP/1001|ATTENDEDTRANSFER|LINK|Local/a|Local/b|12|60|2"},
		{Transfer(t0, id, "support", "PJSIP/1001", "2000", "internal", 12*s, 60*s, 1), "1366720340|1366720340.303267|support|PJSIP/1001|TRANSFER|2000|internal|12|60|1"},
	} {
		if got := Format(tc.got); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.got.Event, got, tc.want)
		}
		back, err := Parse(tc.want + "\n")
		if err != nil {
			t.Fatal(err)
		}
		if Format(back) != tc.want {
			t.Errorf("round trip of %s gives %s", tc.want, Format(back))
		}
	}
}

func TestFormatKeepsColumns(t *testing.T) {
	e := Event{Time: t0, CallID: "id|1", Queue: "sup\nport", Agent: "", Event: "CONNECT",
		Data: []string{"Smith | John", "a\r\nb", "tab\there", "ok ü"}}
	got := Format(e)
	want := "1366720340|id/1|sup port|NONE|CONNECT|Smith / John|a  b|tab here|ok ü"
	if got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	p, err := Parse(got)
	if err != nil || len(p.Data) != 4 || p.Queue != "sup port" {
		t.Fatalf("%+v %v", p, err)
	}
}

func TestParse(t *testing.T) {
	e, err := Parse("1366720340|1366720340.303267|MYQUEUE|SIP/8007|RINGNOANSWER|1000")
	want := Event{Time: t0, CallID: "1366720340.303267", Queue: "MYQUEUE", Agent: "SIP/8007", Event: "RINGNOANSWER", Data: []string{"1000"}}
	if err != nil || !reflect.DeepEqual(e, want) {
		t.Fatalf("got %+v %v", e, err)
	}
	if e, err := Parse("1|NONE|NONE|NONE|QUEUESTART"); err != nil || e.Data != nil {
		t.Fatalf("no trailing pipe: %+v %v", e, err)
	}
	for _, bad := range []string{"", "x|a|b|c|EV|", "1|a|b|c", "1|a|b|c||data"} {
		if _, err := Parse(bad); !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) = %v, want ErrSyntax", bad, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add("1366720340|1366720340.303267|support|PJSIP/1001|CONNECT|12|1366720352.7|4")
	f.Add("1|NONE|NONE|NONE|QUEUESTART|")
	f.Add("1|a|b|c|EV|x||y|")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := Parse(line)
		if err != nil {
			return
		}
		// Formatting what was parsed and parsing again is a fixed point.
		again, err := Parse(Format(e))
		if err != nil {
			t.Fatalf("%q -> %q: %v", line, Format(e), err)
		}
		if Format(again) != Format(e) {
			t.Fatalf("%q: %q != %q", line, Format(again), Format(e))
		}
		if strings.ContainsAny(Format(e), "\n\r") {
			t.Fatalf("line break in %q", Format(e))
		}
	})
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func TestWriterConcurrent(t *testing.T) {
	base := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "queue_log")
	w, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 500
	var wg sync.WaitGroup
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := EnterQueue(t0, fmt.Sprintf("g%d", g), "support", "", "caller|with pipe", i)
				if err := w.Write(e); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	lines := readLines(t, path)
	if len(lines) != writers*each {
		t.Fatalf("%d lines, want %d", len(lines), writers*each)
	}
	next := map[string]int{}
	for _, l := range lines {
		e, err := Parse(l)
		if err != nil || len(e.Data) != 3 || e.Data[1] != "caller/with pipe" {
			t.Fatalf("line %q: %+v %v", l, e, err)
		}
		if e.Data[2] != fmt.Sprint(next[e.CallID]) { // each writer's order kept
			t.Fatalf("writer %s: position %s, want %d", e.CallID, e.Data[2], next[e.CallID])
		}
		next[e.CallID]++
	}
	if st := w.Stats(); st != (Stats{Written: writers * each}) {
		t.Fatalf("stats %+v", st)
	}
	if err := w.Write(QueueStart(t0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
	// The writer's goroutine is gone.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	if n := runtime.NumGoroutine(); n > base {
		t.Fatalf("%d goroutines, baseline %d", n, base)
	}
}

func TestWriterReopenAfterRename(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "queue_log")
	w, err := Open(path, Options{Sync: SyncEveryLine})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := range 3 {
		if err := w.Write(Abandon(t0, fmt.Sprint("old", i), "support", 1, 1, time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil { // what logrotate does
		t.Fatal(err)
	}
	// Lines written after the rename but before Reopen still reach the
	// renamed file: that is the file the writer has open.
	if err := w.Write(Abandon(t0, "late", "support", 1, 1, time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := w.Write(Abandon(t0, fmt.Sprint("new", i), "support", 1, 1, time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	callIDs := func(p string) string {
		var ids []string
		for _, l := range readLines(t, p) {
			e, err := Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, e.CallID)
		}
		return strings.Join(ids, ",")
	}
	if got := callIDs(rotated); got != "old0,old1,old2,late" {
		t.Errorf("rotated file has %s", got)
	}
	if got := callIDs(path); got != "new0,new1" {
		t.Errorf("new file has %s", got)
	}
}

func TestWriterRefusesWhenFull(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue_log")
	// Built without its goroutine, so nothing drains the queue.
	w, err := newWriter(path, Options{QueueSize: 2, Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := w.Write(Event{CallID: fmt.Sprint(i), Event: EventQueueStart}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(Event{Event: EventQueueStart}); !errors.Is(err, ErrFull) {
		t.Fatalf("third Write: %v, want ErrFull", err)
	}
	go w.run()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st != (Stats{Written: 2, Dropped: 1}) {
		t.Fatalf("stats %+v", st)
	}
	lines := readLines(t, path)
	if len(lines) != 2 || lines[0] != "1366720340|0|NONE|NONE|QUEUESTART|" {
		t.Fatalf("lines %q (zero Time stamped by Options.Now)", lines)
	}
}

func TestWriterReportsFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "queue_log")
	if _, err := Open(path, Options{}); err == nil {
		t.Fatal("Open in a missing directory succeeded")
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := Open(path, Options{Sync: SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	// Reopen fails while the directory is gone; lines then fail, loudly.
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err == nil {
		t.Fatal("Reopen into a removed directory succeeded")
	}
	if err := w.Write(QueueStart(t0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err == nil {
		t.Fatal("Flush hid a failed line")
	}
	if st := w.Stats(); st.Failed != 1 {
		t.Fatalf("stats %+v", st)
	}
	// Once the directory is back, Reopen recovers.
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := w.Reopen(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(ConfigReload(t0)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if lines := readLines(t, path); len(lines) != 1 || !strings.HasSuffix(lines[0], "|CONFIGRELOAD|") {
		t.Fatalf("lines %q", lines)
	}
}

func BenchmarkFormat(b *testing.B) {
	e := Connect(t0, "1366720340.303267", "support", "PJSIP/1001", 12*time.Second, "1366720352.7", 4*time.Second)
	for b.Loop() {
		_ = Format(e)
	}
}

func BenchmarkWriterWrite(b *testing.B) {
	w, err := Open(filepath.Join(b.TempDir(), "queue_log"), Options{Sync: SyncNever})
	if err != nil {
		b.Fatal(err)
	}
	e := Connect(t0, "1366720340.303267", "support", "PJSIP/1001", 12*time.Second, "1366720352.7", 4*time.Second)
	for b.Loop() {
		// Writes outpace the disk here; wait for it rather than measure drops.
		for err := w.Write(e); err != nil; err = w.Write(e) {
			if !errors.Is(err, ErrFull) {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}
