package main

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
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/calendar"
	"github.com/switchboard/switchboard/config"
	"github.com/switchboard/switchboard/ivr"
)

// flowRegistry holds the running IVR flow set and swaps in a new one when the
// flow files change (file watch, SIGHUP, API). A set that does not validate
// is refused and the running one stays. Calls keep the set they entered on.
type flowRegistry struct {
	load func() (*ivr.Set, error)
	log  *slog.Logger

	mu        sync.Mutex // serialises reloads
	cur       atomic.Pointer[ivr.Set]
	version   int
	lastErr   string
	lastTried time.Time
}

// newFlowRegistry loads the flows of cfg once; an invalid set is an error.
func newFlowRegistry(cfg *config.Config, cals calendar.Set, log *slog.Logger) (*flowRegistry, error) {
	r := &flowRegistry{load: flowLoader(cfg, cals), log: log}
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
	for _, q := range cfg.Queues {
		opts.Queues = append(opts.Queues, q.Name)
		opts.Mailboxes = append(opts.Mailboxes, q.Name)
	}
	for _, a := range cfg.Agents {
		opts.Mailboxes = append(opts.Mailboxes, a.ID)
	}
	return opts
}

// Current implements center.FlowSource.
func (r *flowRegistry) Current() *ivr.Set { return r.cur.Load() }

// Reload implements api.IVRRegistry.
func (r *flowRegistry) Reload(reason string) (api.IVRStatus, error) {
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

// Status implements api.IVRRegistry.
func (r *flowRegistry) Status() api.IVRStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statusLocked()
}

func (r *flowRegistry) statusLocked() api.IVRStatus {
	st := api.IVRStatus{LastError: r.lastErr, LastReload: r.lastTried, Files: []string{}, Flows: []string{}}
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

// watch reloads the flows when a flow file or the config file changes, until
// ctx ends. Editors save in bursts (write, rename, chmod): changes are
// gathered for a short quiet period before one reload.
func (r *flowRegistry) watch(ctx context.Context, cfg *config.Config) error {
	if cfg.Path == "" {
		return nil
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch flows: %w", err)
	}
	dirs := []string{filepath.Dir(cfg.Path)}
	if d := cfg.FlowsPath(); d != "" {
		dirs = append(dirs, d)
	}
	for _, d := range dirs {
		if err := w.Add(d); err != nil {
			w.Close()
			return fmt.Errorf("watch %s: %w", d, err)
		}
	}
	go func() {
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
				if isFlowFile(ev.Name, cfg.Path) {
					fire = time.After(200 * time.Millisecond)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				r.log.Warn("flow file watch", "err", err)
			case <-fire:
				fire = nil
				_, _ = r.Reload("file change")
			}
		}
	}()
	return nil
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

// loadFlowsForValidate loads cfg's flows for `switchboard validate`.
func loadFlowsForValidate(cfg *config.Config) (*ivr.Set, error) {
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
