package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/api"
	"github.com/switchboard/switchboard/center"
	"github.com/switchboard/switchboard/config"
)

// newAPI builds the HTTP API: tokens and queue scopes, readiness (drain,
// PBX credentials and link) and degradation (PBX overload), the call log,
// the metrics and the IVR routes.
func (a *App) newAPI(context.Context) error {
	pbx := a.PBX
	a.api = api.New(api.Options{
		Tokens: apiTokens(a.Config), Queues: apiQueues(a.Config), Calls: a.Center, CDR: a.DB, Metrics: a.Metrics,
		Logger: a.Log.With("component", "http"),
		Ready: func() (bool, string) {
			if a.Center.Draining() {
				return false, "draining"
			}
			if pbx.Stats().CredentialsRefused {
				return false, "PBX refuses the ARI credentials"
			}
			if !pbx.Ready() {
				return false, "PBX link down"
			}
			return true, ""
		},
		Degraded: pbx.Overload,
	})
	a.api.AddIVRRoutes(ivrRegistry{a.Flows}, a.DB)
	return nil
}

// addSupervisionRoutes adds the monitoring and on-demand recording routes.
func (a *App) addSupervisionRoutes(context.Context) error {
	a.api.AddMonitorRoutes(monitoring{a.Center}, supervisorDir(a.Config.Supervisors))
	a.api.AddCallRecordingRoutes(monitoring{a.Center})
	return nil
}

// monitorPolicy says which supervisor endpoints may monitor which queues
// by feature code.
func monitorPolicy(sups []config.Supervisor) center.MonitorPolicy {
	return func(endpoint string, queue sb.QueueName, _ sb.AgentID) bool {
		for _, sv := range sups {
			if strings.EqualFold(sv.Endpoint, endpoint) && sv.MayMonitor(string(queue)) {
				return true
			}
		}
		return false
	}
}

// addAgentAndQueueRoutes adds the agent routes (live and history) and the
// queue routes (the router's live snapshot, the stored intervals).
func (a *App) addAgentAndQueueRoutes(context.Context) error {
	a.api.AddAgentRoutes(a.Center)
	a.api.AddAgentHistoryRoute(agentHistory{a.DB})
	a.api.AddQueueRoutes(a.Center.RoutingSnapshot, queueHistory{a.DB})
	return nil
}

// listen opens the HTTP listener with the http: limits.
func (a *App) listen(context.Context) error {
	hc := a.Config.HTTP
	ln, err := net.Listen("tcp", hc.Listen)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", hc.Listen, err)
	}
	a.Addr = ln.Addr()
	limits := api.Limits{ReadTimeout: hc.ReadTimeout, WriteTimeout: hc.WriteTimeout, IdleTimeout: hc.IdleTimeout,
		MaxHeaderBytes: hc.MaxHeaderBytes, MaxConnections: hc.MaxConnections}
	a.listener = a.api.Listener(ln, limits)
	a.HTTP = a.api.HTTPServer(limits)
	return nil
}

// serveHTTP serves the API until shutdownHTTP.
func (a *App) serveHTTP() {
	if err := a.HTTP.Serve(a.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.Log.Error("http server", "err", err)
	}
}

// shutdownHTTP stops the HTTP server.
func (a *App) shutdownHTTP() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.HTTP.Shutdown(ctx)
}

// apiTokens are the configured API tokens as the API takes them.
func apiTokens(cfg *config.Config) []api.Token {
	var tokens []api.Token
	for _, t := range cfg.API.Tokens {
		tk := api.Token{Name: t.Name, Role: api.Role(t.Role), SHA256: t.SHA256}
		for _, q := range t.Queues {
			tk.Queues = append(tk.Queues, sb.QueueName(q))
		}
		tokens = append(tokens, tk)
	}
	return tokens
}

// apiQueues are the configured queues and who answers them, for the API's
// queue scopes: a queue configured without agents is answered by all.
func apiQueues(cfg *config.Config) []api.QueueMembers {
	var out []api.QueueMembers
	for _, q := range cfg.Queues {
		m := api.QueueMembers{Queue: q.Name, Agents: slices.Clone(q.Agents)}
		if len(m.Agents) == 0 {
			for _, a := range cfg.Agents {
				m.Agents = append(m.Agents, sb.AgentID(a.ID))
			}
		}
		out = append(out, m)
	}
	return out
}
