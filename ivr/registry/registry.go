// Package registry holds the running IVR flow set of a controller and swaps
// in a new one when the flow files change (file watch, SIGHUP, the API):
// the flows of the configuration are loaded, checked against its routes
// and queue exits, and refused whole when anything is wrong.
package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr"
)

// Registry holds the running IVR flow set and swaps in a new one when the
// flow files change (file watch, SIGHUP, API). A set that does not validate
// is refused and the running one stays. Calls keep the set they entered on.
type Registry struct {
	load     func() (*ivr.Set, error)
	log      *slog.Logger
	cfgPath  string // the configuration file ("" for the embedded demo)
	flowsDir string // ivr.flows_dir resolved ("" when unset)

	mu        sync.Mutex // serialises reloads
	cur       atomic.Pointer[ivr.Set]
	version   int
	lastErr   string
	lastTried time.Time
}

// Status is the running flow set: what hot reload swapped in last. It has
// the fields of api.IVRStatus, which the wiring converts it to.
type Status struct {
	Version    int       `json:"version"`
	Checksum   string    `json:"checksum"`
	Loaded     time.Time `json:"loaded"`
	Files      []string  `json:"files"`
	Flows      []string  `json:"flows"`
	LastError  string    `json:"last_error,omitempty"` // why the last reload was refused, if it was
	LastReload time.Time `json:"last_reload,omitzero"` // when a reload was last tried
}

// New loads the flows of cfg once; an invalid set is an error.
func New(cfg *config.Config, cals calendar.Set, log *slog.Logger) (*Registry, error) {
	r := &Registry{load: flowLoader(cfg, cals), log: log, cfgPath: cfg.Path, flowsDir: cfg.FlowsPath()}
	if _, err := r.Reload("start"); err != nil {
		return nil, err
	}
	return r, nil
}

// flowLoader returns how to (re)load cfg's flows: from its flows_dir and the
// flows: key of its file, or, for the embedded demo configuration, from the
// embedded YAML.
func flowLoader(cfg *config.Config, cals calendar.Set) func() (*ivr.Set, error) {
	opts := flowOptions(cfg, cals)
	var load func() (*ivr.Set, error)
	switch dir := cfg.FlowsPath(); {
	case cfg.Path == "":
		data := config.DefaultYAML()
		load = func() (*ivr.Set, error) { return ivr.LoadBytes(config.DefaultYAMLName, data, opts) }
	case dir == "":
		load = func() (*ivr.Set, error) { return ivr.LoadFiles([]string{cfg.Path}, opts) }
	default:
		load = func() (*ivr.Set, error) { return ivr.LoadDir(dir, []string{cfg.Path}, opts) }
	}
	return func() (*ivr.Set, error) {
		set, err := load()
		if err != nil {
			return nil, err
		}
		if err := checkRoutes(cfg, set); err != nil {
			return nil, err
		}
		// Queue exits name flows: a set (or a reload) without them is refused.
		names := make([]string, 0, len(set.Flows))
		for n := range set.Flows {
			names = append(names, n)
		}
		if err := cfg.CheckTargets(names); err != nil {
			return nil, err
		}
		return set, nil
	}
}

// checkRoutes reports routes (ivr.routes) naming flows the set lacks, at
// the route's line in the configuration file.
func checkRoutes(cfg *config.Config, set *ivr.Set) error {
	name, data := config.DefaultYAMLName, config.DefaultYAML()
	if cfg.Path != "" {
		name = cfg.Path
		if b, err := os.ReadFile(cfg.Path); err == nil {
			data = b
		}
	}
	src, _ := config.NewSource(name, data)
	var problems []ivr.Problem
	for i, r := range cfg.IVR.Routes {
		for key, flow := range map[string]string{"flow": r.Flow, "closed_flow": r.ClosedFlow} {
			if flow == "" || set.Flows[flow] != nil {
				continue
			}
			k := fmt.Sprintf("ivr.routes[%d].%s", i, key)
			file, line := src.Where(k)
			problems = append(problems, ivr.Problem{Pos: ivr.Pos{File: file, Line: line},
				Message: fmt.Sprintf("%s: no flow named %q", k, flow)})
		}
	}
	if len(problems) == 0 {
		return nil
	}
	slices.SortFunc(problems, func(a, b ivr.Problem) int { return a.Pos.Line - b.Pos.Line })
	return &ivr.ValidationError{Problems: problems}
}

// flowOptions are the names flows may refer to.
func flowOptions(cfg *config.Config, cals calendar.Set) ivr.LoadOptions {
	opts := ivr.LoadOptions{Calendars: cals, Passed: cfg.IVR.Variables}
	for _, q := range cfg.QueueNames() {
		opts.Queues = append(opts.Queues, q)
		opts.Mailboxes = append(opts.Mailboxes, q)
	}
	for _, a := range cfg.Agents {
		opts.Mailboxes = append(opts.Mailboxes, a.ID)
	}
	return opts
}

// Current is the running set (ivr.FlowSource).
func (r *Registry) Current() *ivr.Set { return r.cur.Load() }

// Reload validates the flow files and swaps them in; on error the running
// version stays and the error (with file:line problems) is returned with
// code EUNPROCESSABLE. reason goes in the log line.
func (r *Registry) Reload(reason string) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastTried = time.Now()
	set, err := r.load()
	if err != nil {
		r.lastErr = err.Error()
		r.log.Error("IVR flows refused; the running version stays", "reason", reason, "err", err)
		return r.statusLocked(), &sb.Error{Code: sb.EUNPROCESSABLE, Message: err.Error()}
	}
	r.lastErr = ""
	if old := r.cur.Load(); old != nil && old.Checksum == set.Checksum {
		r.log.Info("IVR flows unchanged", "reason", reason, "version", old.Version)
		return r.statusLocked(), nil
	}
	r.version++
	set.Version = r.version
	set.Loaded = time.Now()
	r.cur.Store(set)
	r.log.Info("IVR flows loaded", "reason", reason, "version", set.Version, "checksum", set.Checksum[:12], "flows", len(set.Flows))
	return r.statusLocked(), nil
}

// Status is the running set and the last reload's outcome.
func (r *Registry) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statusLocked()
}

func (r *Registry) statusLocked() Status {
	st := Status{LastError: r.lastErr, LastReload: r.lastTried, Files: []string{}, Flows: []string{}}
	if set := r.cur.Load(); set != nil {
		st.Version, st.Checksum, st.Loaded = set.Version, set.Checksum, set.Loaded
		st.Files = append(st.Files, set.Files...)
		for name := range set.Flows {
			st.Flows = append(st.Flows, name)
		}
		slices.Sort(st.Flows)
	}
	return st
}

// Watcher reloads a registry's flows when a flow file or the
// configuration file changes.
type Watcher struct {
	r       *Registry
	w       *fsnotify.Watcher
	cfgPath string
}

// Watch watches the folders of the configuration file and of the flow
// files. The embedded demo configuration has no files: Watch returns a nil
// Watcher, whose Run returns at once. Run the Watcher in a goroutine.
func (r *Registry) Watch() (*Watcher, error) {
	if r.cfgPath == "" {
		return nil, nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch flows: %w", err)
	}
	dirs := []string{filepath.Dir(r.cfgPath)}
	if r.flowsDir != "" {
		dirs = append(dirs, r.flowsDir)
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return nil, fmt.Errorf("watch %s: %w", d, err)
		}
	}
	return &Watcher{r: r, w: w, cfgPath: r.cfgPath}, nil
}

// Run reloads on changes until ctx ends, then stops watching. Editors save
// in bursts (write, rename, chmod): changes are gathered for a short quiet
// period before one reload.
func (wt *Watcher) Run(ctx context.Context) {
	if wt == nil {
		return
	}
	w := wt.w
	defer w.Close()
	var fire <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if isFlowFile(ev.Name, wt.cfgPath) {
				fire = time.After(200 * time.Millisecond)
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			wt.r.log.Warn("flow file watch", "err", err)
		case <-fire:
			fire = nil
			_, _ = wt.r.Reload("file change")
		}
	}
}

func isFlowFile(name, cfgPath string) bool {
	if name == cfgPath {
		return true
	}
	switch filepath.Ext(name) {
	case ".yaml", ".yml":
		return true
	}
	return false
}

// Load loads and checks cfg's flows once, as a start would, without a
// registry (`switchboard validate`).
func Load(cfg *config.Config) (*ivr.Set, error) {
	cals, err := cfg.CalendarSet()
	if err != nil {
		return nil, err
	}
	set, err := flowLoader(cfg, cals)()
	var ve *ivr.ValidationError
	if errors.As(err, &ve) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("flows: %w", err)
	}
	return set, nil
}
