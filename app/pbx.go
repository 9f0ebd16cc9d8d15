package app

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/switchboard/switchboard/ari"
	"github.com/switchboard/switchboard/config"
)

// ARIConfig is the ARI adapter's configuration from the asterisk: section.
func ARIConfig(ac config.Asterisk) ari.Config {
	return ari.Config{
		URL: ac.URL, WebsocketURL: ac.WebsocketURL, Username: ac.Username, Password: ac.Password,
		Application: ac.Application, RequestTimeout: ac.RequestTimeout,
		ReconnectMin: ac.ReconnectMin, ReconnectMax: ac.ReconnectMax, QueueLimit: ac.EventQueueLimit,
		MaxConnections: ac.MaxConnections,
		Overload: ari.OverloadConfig{Window: ac.Overload.Window, MinRequests: ac.Overload.MinRequests,
			FailureRatio: ac.Overload.FailureRatio, P95Latency: ac.Overload.P95Latency},
	}
}

// newPBX builds the ARI adapter; it connects when run.
func (a *App) newPBX(context.Context) error {
	ac := ARIConfig(a.Config.Asterisk)
	ac.Logger, ac.Observe = a.Log.With("component", "ari"), a.Metrics.ObserveARI
	ac.DialContext = a.opts.PBXDial
	pbx, err := ari.New(ac)
	if err != nil {
		return fmt.Errorf("asterisk: %w", err)
	}
	a.PBX = pbx
	return nil
}

// registerMetrics exposes the PBX link (up, credentials, events, requests,
// connections, overload) and the center's live counts and inbox.
func (a *App) registerMetrics(context.Context) error {
	pbx := a.PBX
	a.Metrics.SetActiveCallsFunc(a.Center.ActiveCalls)
	a.Metrics.SetLinkUpFunc(pbx.Ready)
	engine := a.Center
	a.Metrics.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_center_inbox_depth",
			Help: "Work posted to the call engine's owner goroutine and not yet run.",
		}, func() float64 { return float64(engine.InboxDepth()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_center_inbox_overflows_total",
			Help: "Posts to the call engine past its inbox limit (kept, and logged as errors): the engine is not keeping up.",
		}, func() float64 { return float64(engine.InboxOverflows()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_credentials_refused",
			Help: "1 while the PBX refuses the ARI credentials on reconnecting (changed on the PBX under a running Switchboard): live calls are not managed.",
		}, func() float64 {
			if pbx.Stats().CredentialsRefused {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_credentials_rejected_total",
			Help: "Reconnection attempts the PBX refused with 401 after the link had been up.",
		}, func() float64 { return float64(pbx.Stats().CredentialsRejected) }),
		newPBXRequestCollector(func() []ari.RouteStats { return pbx.Stats().Routes }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_pbx_command_retries_total",
			Help: "Commands that decide a call's state (hang-ups, bridge removals and destroys, recording stops) the PBX neither confirmed nor refused at first, retried with back-off until it did.",
		}, func() float64 { return float64(a.Center.SettleRetries()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_recordings_open",
			Help: "Recordings being made or fetched: from their start until their file is stored or they are marked failed.",
		}, func() float64 { return float64(a.Center.OpenRecordings()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_max_connections",
			Help: "HTTP connections to the PBX (ARI) at most, the events websocket included (asterisk.max_connections).",
		}, func() float64 { return float64(pbx.Stats().MaxConnections) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_requests_in_flight",
			Help: "Requests to the PBX's REST interface holding a connection now.",
		}, func() float64 { return float64(pbx.Stats().RequestsInFlight) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_requests_waiting",
			Help: "Requests to the PBX's REST interface waiting for a free connection (every one of asterisk.max_connections busy).",
		}, func() float64 { return float64(pbx.Stats().RequestsWaiting) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_pbx_overloaded",
			Help: "1 while the PBX looks overloaded over asterisk.overload.window (ARI requests failing or slow): /healthz says degraded.",
		}, func() float64 {
			if o, _ := pbx.Overload(); o {
				return 1
			}
			return 0
		}),
	)
	a.Metrics.SetEventStatsFunc(func() (uint64, uint64) {
		s := pbx.Stats()
		return uint64(s.EventsReceived), uint64(s.EventsLost)
	})
	return nil
}
