package recording

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	sb "github.com/switchboard/switchboard"
)

// Mode is how a policy chooses the calls it records.
type Mode string

// Recording modes.
const (
	// ModeAlways records every call.
	ModeAlways Mode = "always"
	// ModeNever records no call, and refuses on-demand starts.
	ModeNever Mode = "never"
	// ModeOnDemand records nothing by itself; an agent or a supervisor
	// starts and stops the recording during the call.
	ModeOnDemand Mode = "on-demand"
	// ModeSampled records Percent of the calls, chosen by a hash of the
	// call id, so a restarted Switchboard (or a second node) decides the
	// same for the same call.
	ModeSampled Mode = "sampled"
)

// Modes lists every mode.
var Modes = []Mode{ModeAlways, ModeNever, ModeOnDemand, ModeSampled}

// Policy is the recording policy of a queue or a campaign.
type Policy struct {
	Mode Mode `mapstructure:"mode" json:"mode" yaml:"mode"`
	// Percent of calls recorded in sampled mode, 0..100 (fractions allowed,
	// down to a hundredth of a percent).
	Percent float64 `mapstructure:"percent" json:"percent,omitempty" yaml:"percent,omitempty"`
	// PerLeg also records each party's channel to its own file, next to
	// the mixed recording of the bridge.
	PerLeg bool `mapstructure:"per_leg" json:"per_leg,omitempty" yaml:"per_leg,omitempty"`
	// RetentionDays is how long a finished recording is kept; 0 keeps it
	// until someone deletes it.
	RetentionDays int `mapstructure:"retention_days" json:"retention_days,omitempty" yaml:"retention_days,omitempty"`
	// AgentMayStop lets the agent on a call stop or pause its recording
	// (the API, the *4 and *1 phone keys); unset, see [AgentMayStop].
	// Supervisors and admins may whatever the policy says.
	AgentMayStop *bool `mapstructure:"agent_may_stop" json:"agent_may_stop,omitempty" yaml:"agent_may_stop,omitempty"`
}

// AgentMayStop reports whether the agent on a call recorded under p may
// stop or pause the recording. Unless the policy says, only on-demand
// recordings, which a person started, may be: an always or sampled
// recording is the policy's (compliance, quality sampling), not the
// agent's, and resuming stays open to everyone.
func AgentMayStop(p Policy) bool {
	if p.AgentMayStop != nil {
		return *p.AgentMayStop
	}
	return p.Mode == ModeOnDemand
}

// Validate reports every problem with the policy.
func (p Policy) Validate() error {
	var errs []error
	switch p.Mode {
	case ModeAlways, ModeNever, ModeOnDemand:
		if p.Percent != 0 {
			errs = append(errs, fmt.Errorf("percent is only for mode %s", ModeSampled))
		}
	case ModeSampled:
		if math.IsNaN(p.Percent) || p.Percent < 0 || p.Percent > 100 {
			errs = append(errs, fmt.Errorf("percent %v is outside 0..100", p.Percent))
		}
	default:
		errs = append(errs, fmt.Errorf("mode %q is not one of %v", p.Mode, Modes))
	}
	if p.RetentionDays < 0 {
		errs = append(errs, fmt.Errorf("retention_days %d is negative", p.RetentionDays))
	}
	return errors.Join(errs...)
}

// sampleBuckets is the resolution of sampling: a hundredth of a percent.
const sampleBuckets = 10000

// Decide reports whether a call starts recording when its agent answers.
// On-demand and never are false (on-demand waits for a person to start it);
// sampled hashes the call id into one of 10,000 buckets, so the same call
// always gets the same answer and the share of recorded calls converges on
// Percent. An invalid policy records (failing safe for compliance: an
// unwanted recording can be deleted, a missing one cannot be made).
func Decide(p Policy, call sb.CallID) bool {
	switch p.Mode {
	case ModeNever, ModeOnDemand:
		return false
	case ModeSampled:
		if math.IsNaN(p.Percent) || p.Percent < 0 || p.Percent > 100 {
			return true
		}
		limit := uint64(math.Round(p.Percent * sampleBuckets / 100))
		return bucket(call) < limit
	}
	return true
}

// bucket maps a call id to 0..sampleBuckets-1. SHA-256 rather than a
// process-seeded map hash: the answer must survive a restart.
func bucket(call sb.CallID) uint64 {
	sum := sha256.Sum256([]byte(call))
	return binary.BigEndian.Uint64(sum[:8]) % sampleBuckets
}

// Legs returns what a recorded call records under p: the mixed bridge, and
// each party when PerLeg is set.
func Legs(p Policy) []Leg {
	if p.PerLeg {
		return []Leg{LegMixed, LegCaller, LegAgent}
	}
	return []Leg{LegMixed}
}

// CanStartOnDemand reports whether a person may start a recording by hand
// under p: every mode but never (a call already recorded is the caller's
// business to check).
func CanStartOnDemand(p Policy) bool { return p.Mode != ModeNever && p.Mode != "" }

// Policies are the policies of every queue and campaign, with a default for
// the rest.
type Policies struct {
	Default   Policy                  `mapstructure:"default" json:"default" yaml:"default"`
	Queues    map[sb.QueueName]Policy `mapstructure:"queues" json:"queues,omitempty" yaml:"queues,omitempty"`
	Campaigns map[string]Policy       `mapstructure:"campaigns" json:"campaigns,omitempty" yaml:"campaigns,omitempty"`
}

// For returns the policy of a call: its campaign's when it has one
// configured (an outbound call belongs to its campaign first), else its
// queue's, else the default.
func (ps Policies) For(queue sb.QueueName, campaign string) Policy {
	if campaign != "" {
		if p, ok := ps.Campaigns[campaign]; ok {
			return p
		}
	}
	if queue != "" {
		if p, ok := ps.Queues[queue]; ok {
			return p
		}
	}
	return ps.Default
}

// Validate reports every problem, each with its place
// (queues.sales: mode ...).
func (ps Policies) Validate() error {
	var errs []error
	add := func(place string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", place, err))
		}
	}
	add("default", ps.Default.Validate())
	for _, q := range slices.Sorted(maps.Keys(ps.Queues)) {
		add("queues."+string(q), ps.Queues[q].Validate())
	}
	for _, c := range slices.Sorted(maps.Keys(ps.Campaigns)) {
		add("campaigns."+c, ps.Campaigns[c].Validate())
	}
	return errors.Join(errs...)
}
