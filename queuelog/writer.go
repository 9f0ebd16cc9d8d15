package queuelog

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// SyncPolicy says when the Writer fsyncs the file.
type SyncPolicy int

const (
	// SyncBatch fsyncs whenever the writer's queue drains: one fsync covers
	// every line written in a burst (group commit). The default.
	SyncBatch SyncPolicy = iota
	// SyncEveryLine fsyncs after each line: nothing acknowledged by the
	// disk is lost on power failure, at a few milliseconds per line.
	SyncEveryLine
	// SyncNever leaves flushing to the operating system, like Asterisk
	// (which only fflushes); a crash of the host can lose recent lines.
	SyncNever
)

// DefaultQueueSize is the number of lines a Writer buffers by default.
const DefaultQueueSize = 8192

// Options configures a Writer; the zero value is usable.
type Options struct {
	// Sync is the fsync policy.
	Sync SyncPolicy
	// QueueSize is how many lines may wait for the disk; 0 means
	// DefaultQueueSize. When it is full, Write fails with ErrFull.
	QueueSize int
	// Perm is the mode of a newly created file; 0 means 0640.
	Perm os.FileMode
	// Now stamps events whose Time is zero; nil means time.Now.
	Now func() time.Time
	// Logger receives write failures; nil discards them.
	Logger *slog.Logger
}

// ErrFull is returned by Write when the queue of lines waiting for the disk
// is full: the event is NOT written, and Stats().Dropped counts it.
var ErrFull = errors.New("queuelog: queue full, event dropped")

// ErrClosed is returned by a Writer after Close.
var ErrClosed = errors.New("queuelog: writer closed")

// Stats counts what a Writer did with the events it was given.
type Stats struct {
	// Written is the number of lines written to the file.
	Written uint64
	// Dropped is the number of events refused with ErrFull.
	Dropped uint64
	// Failed is the number of lines the file refused (disk full, I/O error).
	Failed uint64
}

// Writer appends events to a queue_log file. It is safe for concurrent use.
//
// Write never waits for the disk: it formats the line and hands it to one
// goroutine that owns the file, through a bounded queue. That goroutine
// writes each line with a single write(2) on a file opened O_APPEND, so
// lines are never interleaved, not even with another process appending to
// the same file, and fsyncs according to Options.Sync. The trade-off: an
// accepted event is on disk only after Flush (or Close) returns; a disk
// error surfaces there, in Stats and in the log rather than from Write; and
// when the disk falls behind by QueueSize lines, Write refuses events with
// ErrFull instead of stalling a call-handling goroutine. Nothing is
// dropped silently.
//
// Reopen supports logrotate: after the file is renamed, Reopen makes later
// lines go to a new file at the original path (copytruncate also works,
// thanks to O_APPEND).
type Writer struct {
	path string
	opt  Options
	log  *slog.Logger

	mu     sync.RWMutex // closed and the send side of lines and ctl
	closed bool
	lines  chan string
	ctl    chan ctlReq
	done   chan struct{}

	written, dropped, failed atomic.Uint64

	// Owned by the run goroutine.
	f        *os.File
	err      error // first failure since the last Flush
	closeErr error // result of Close, set before done is closed
}

type ctlOp int

const (
	opFlush ctlOp = iota
	opReopen
)

type ctlReq struct {
	op    ctlOp
	reply chan error
}

// Open opens (creating if needed) the queue_log at path for appending and
// starts the writer's goroutine. Close stops it.
func Open(path string, opt Options) (*Writer, error) {
	w, err := newWriter(path, opt)
	if err != nil {
		return nil, err
	}
	go w.run()
	return w, nil
}

func newWriter(path string, opt Options) (*Writer, error) {
	if opt.QueueSize <= 0 {
		opt.QueueSize = DefaultQueueSize
	}
	if opt.Perm == 0 {
		opt.Perm = 0o640
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	w := &Writer{
		path:  path,
		opt:   opt,
		log:   opt.Logger,
		lines: make(chan string, opt.QueueSize),
		ctl:   make(chan ctlReq),
		done:  make(chan struct{}),
	}
	if w.log == nil {
		w.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	f, err := w.open()
	if err != nil {
		return nil, err
	}
	w.f = f
	return w, nil
}

func (w *Writer) open() (*os.File, error) {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, w.opt.Perm)
	if err != nil {
		return nil, fmt.Errorf("queue log %s: %w", w.path, err)
	}
	return f, nil
}

// Write queues e for the file and returns at once. A zero e.Time is
// stamped with Options.Now. It returns ErrFull when the queue is full and
// ErrClosed after Close.
func (w *Writer) Write(e Event) error {
	if e.Time.IsZero() {
		e.Time = w.opt.Now()
	}
	line := Format(e) + "\n"
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.lines <- line:
		return nil
	default:
		w.dropped.Add(1)
		return ErrFull
	}
}

// Flush waits until every event accepted before it is written and synced,
// and returns the first write or sync failure since the previous Flush.
func (w *Writer) Flush() error { return w.control(opFlush) }

// Reopen writes and syncs the events accepted so far, closes the file and
// opens path again, creating it: call it after logrotate renamed the file
// (e.g. from a SIGHUP handler). On failure later lines fail too, and count
// in Stats().Failed, until a Reopen succeeds.
func (w *Writer) Reopen() error { return w.control(opReopen) }

func (w *Writer) control(op ctlOp) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	req := ctlReq{op: op, reply: make(chan error, 1)}
	w.ctl <- req
	return <-req.reply
}

// Close writes every accepted event, syncs and closes the file, and waits
// for the writer's goroutine to end. It returns the first failure not yet
// reported by Flush.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.closed = true
	close(w.lines)
	w.mu.Unlock()
	<-w.done
	return w.closeErr
}

// Stats returns the writer's counters.
func (w *Writer) Stats() Stats {
	return Stats{Written: w.written.Load(), Dropped: w.dropped.Load(), Failed: w.failed.Load()}
}

// run owns the file: it writes queued lines and serves Flush and Reopen.
func (w *Writer) run() {
	defer close(w.done)
	for {
		select {
		case line, ok := <-w.lines:
			if !ok {
				w.closeErr = errors.Join(w.takeErr(), w.closeFile())
				return
			}
			w.writeLine(line)
			if w.opt.Sync == SyncBatch && len(w.lines) == 0 {
				w.sync()
			}
		case req := <-w.ctl:
			w.drain()
			switch req.op {
			case opFlush:
				w.sync()
				req.reply <- w.takeErr()
			case opReopen:
				err := w.takeErr()
				if cerr := w.closeFile(); cerr != nil {
					err = errors.Join(err, cerr)
				}
				f, oerr := w.open()
				if oerr != nil {
					w.log.Error("queue log reopen failed", "path", w.path, "err", oerr)
				}
				w.f = f
				req.reply <- errors.Join(err, oerr)
			}
		}
	}
}

// drain writes the lines queued so far, so a Flush or Reopen covers every
// event accepted before it.
func (w *Writer) drain() {
	for n := len(w.lines); n > 0; n-- {
		line, ok := <-w.lines
		if !ok {
			return
		}
		w.writeLine(line)
	}
}

func (w *Writer) writeLine(line string) {
	if w.f == nil {
		w.fail(fmt.Errorf("queue log %s: not open (reopen failed)", w.path))
		return
	}
	if _, err := w.f.WriteString(line); err != nil {
		w.fail(fmt.Errorf("queue log %s: %w", w.path, err))
		return
	}
	w.written.Add(1)
	if w.opt.Sync == SyncEveryLine {
		w.sync()
	}
}

func (w *Writer) sync() {
	if w.f == nil || w.opt.Sync == SyncNever {
		return
	}
	if err := w.f.Sync(); err != nil {
		w.record(fmt.Errorf("queue log %s: sync: %w", w.path, err))
	}
}

func (w *Writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	w.sync()
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return fmt.Errorf("queue log %s: %w", w.path, err)
	}
	return nil
}

func (w *Writer) fail(err error) {
	if w.failed.Add(1) == 1 || w.err == nil {
		w.log.Error("queue log write failed", "path", w.path, "err", err)
	}
	w.record(err)
}

func (w *Writer) record(err error) {
	if w.err == nil {
		w.err = err
	}
}

func (w *Writer) takeErr() error {
	err := w.err
	w.err = nil
	return err
}
