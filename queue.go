package switchboard

import "time"

// Queue is a queue callers wait in until an agent answers: who answers it
// and how (the router's part), where a caller goes when nobody does, what
// he hears while he waits, callbacks. It is the one queue configuration:
// the configuration file's queues[] decode into it (the mapstructure and
// yaml tags are its keys), the router (routing.New) and the center read
// it as it is, and routing.CheckQueues says what is wrong with it.
//
// Zero values mean the default named in each field. WaitForAgent and
// RingTimeout at 0 take the configuration's center.wait_for_agent and
// center.agent_ring_timeout (routing.Config's WaitForAgent and
// RingTimeout). With routing.engine basic only Name, Agents and
// WaitForAgent are read (routing.Basic).
type Queue struct {
	// Name identifies the queue (unique): IVR queue nodes, the API, metrics.
	Name QueueName `mapstructure:"name" yaml:"name"`
	// Agents are the ids of the agents who answer this queue (still
	// subject to Skills), in the order linear and round-robin use; empty
	// means all agents.
	Agents []AgentID `mapstructure:"agents" yaml:"agents,omitempty"`
	// WaitForAgent is how long a caller waits before he is sent to
	// MaxWaitTarget (0: center.wait_for_agent).
	WaitForAgent time.Duration `mapstructure:"wait_for_agent" yaml:"wait_for_agent,omitempty"`
	// Strategy picks the agent: longest-idle (""), round-robin,
	// fewest-calls, least-talk-time, ring-all, linear, random,
	// weighted-random, best-skill.
	Strategy string `mapstructure:"strategy" yaml:"strategy,omitempty"`
	// Skills is a boolean expr-lang expression over the agent that says who
	// may take the queue's calls, e.g. `skills.billing >= 5 && "es" in
	// languages`; empty: every agent. Names available:
	//
	//	id, name   string
	//	skills     map[string]int    skills.billing >= 5, skills["language.es"] > 3
	//	languages  []string          "es" in languages
	//	attributes map[string]string attributes.site == "madrid"
	//	weight     int
	//
	// A skill the agent lacks reads 0.
	Skills string `mapstructure:"skills" yaml:"skills,omitempty"`
	// RingTimeout is how long one offer rings (0: center.agent_ring_timeout,
	// or 15s without one).
	RingTimeout time.Duration `mapstructure:"ring_timeout" yaml:"ring_timeout,omitempty"`
	// MaxNoAnswer pauses an agent who misses this many offers in a row with
	// reason "no answer" (0: 3; negative, which only code may set: never).
	MaxNoAnswer int `mapstructure:"max_no_answer" yaml:"max_no_answer,omitempty"`
	// WrapUp is the agent's after-call work time for this queue's calls
	// (0: none).
	WrapUp time.Duration `mapstructure:"wrap_up" yaml:"wrap_up,omitempty"`
	// PreferredWait is how long a call with a preferred agent (a flow's
	// preferred_agent, a returning caller) is offered to that agent alone
	// before the strategy takes over (0: never).
	PreferredWait time.Duration `mapstructure:"preferred_wait" yaml:"preferred_wait,omitempty"`
	// ServiceLevel is the target "SHARE/TIME", e.g. "80/20s": 80% of calls
	// answered within 20s (see routing.ParseServiceLevel). Empty: 80/20s.
	ServiceLevel string `mapstructure:"service_level" yaml:"service_level,omitempty"`
	// MaxWaitTarget is where a caller goes after waiting WaitForAgent:
	// empty (the no-agent prompt, then hang up), "hangup", or an IVR flow
	// name.
	MaxWaitTarget string `mapstructure:"max_wait_target" yaml:"max_wait_target,omitempty"`
	// MaxLength refuses callers beyond this many waiting or ringing, to
	// MaxLengthTarget (0: no limit).
	MaxLength       int    `mapstructure:"max_length" yaml:"max_length,omitempty"`
	MaxLengthTarget string `mapstructure:"max_length_target" yaml:"max_length_target,omitempty"`
	// JoinEmpty refuses, and LeaveWhenEmpty removes, callers for lack of
	// agents, to EmptyTarget.
	JoinEmpty      EmptyPolicy `mapstructure:"join_empty" yaml:"join_empty,omitempty"`
	LeaveWhenEmpty EmptyPolicy `mapstructure:"leave_when_empty" yaml:"leave_when_empty,omitempty"`
	EmptyTarget    string      `mapstructure:"empty_target" yaml:"empty_target,omitempty"`
	// MusicClass is the music-on-hold class callers hear (empty: the PBX
	// default).
	MusicClass string `mapstructure:"music_class" yaml:"music_class,omitempty"`
	// AnnounceEvery tells each waiting caller, this often, his position
	// (AnnouncePosition) and estimated wait (AnnounceWait) (0: never).
	AnnounceEvery    time.Duration `mapstructure:"announce_every" yaml:"announce_every,omitempty"`
	AnnouncePosition bool          `mapstructure:"announce_position" yaml:"announce_position,omitempty"`
	AnnounceWait     bool          `mapstructure:"announce_wait" yaml:"announce_wait,omitempty"`
	// Escalation changes how a caller is served as his wait grows, by
	// increasing After.
	Escalation []EscalationStep `mapstructure:"escalation" yaml:"escalation,omitempty"`
	// Callback lets a waiting caller hang up and be called back, keeping
	// his place.
	Callback QueueCallback `mapstructure:"callback" yaml:"callback,omitempty"`
	// ReturningCaller is a look-back window: a caller who talked to an
	// agent of this queue within it is offered first to that agent for
	// PreferredWait (0: off).
	ReturningCaller time.Duration `mapstructure:"returning_caller" yaml:"returning_caller,omitempty"`

	// Set by code only, not configuration keys:

	// IgnoreCallSkills leaves out what each caller asks of his agent
	// (a flow's queue node skills): routing.engine basic.
	IgnoreCallSkills bool `mapstructure:"-" yaml:"-"`
	// PrimarySkill is the skill best-skill ranks by; default the first
	// skills.X the Skills expression names.
	PrimarySkill string `mapstructure:"-" yaml:"-"`
	// ExpectedAHT seeds the handle-time average before calls are measured
	// (0: 3m).
	ExpectedAHT time.Duration `mapstructure:"-" yaml:"-"`
}

// EscalationStep is one step of a queue's escalation: once a caller has
// waited After (since he entered the queue), the step's changes apply to
// him, on top of the earlier steps' unless it replaces them.
type EscalationStep struct {
	// After is the wait at which the step applies; positive, increasing
	// from step to step.
	After time.Duration `mapstructure:"after" yaml:"after"`
	// Skills replaces the queue's skill expression, usually with a looser
	// one (skills.billing >= 3 instead of >= 5). Write steps that widen
	// the agent set, or FIFO across steps is only kept per agent set.
	Skills string `mapstructure:"skills" yaml:"skills,omitempty"`
	// AddQueues adds the agents of these queues (by their skills and
	// agents): a second agent group.
	AddQueues []QueueName `mapstructure:"add_queues" yaml:"add_queues,omitempty"`
	// RaisePriority adds this much to the caller's queue priority: he is
	// then served before callers of lower priority, however long they
	// have waited. Steps add up; 0 = no change, never negative.
	RaisePriority int `mapstructure:"raise_priority" yaml:"raise_priority,omitempty"`
	// OfferCallback plays Callback.Prompt: the caller may press
	// Callback.Key to be called back.
	OfferCallback bool `mapstructure:"offer_callback" yaml:"offer_callback,omitempty"`
	// Exit sends a caller still waiting to this target: "hangup" or an IVR
	// flow name; a caller ringing an agent is sent when the ring ends.
	Exit string `mapstructure:"exit" yaml:"exit,omitempty"`
}

// QueueCallback configures callbacks: a waiting caller presses Key, hangs
// up, keeps his place, and is called back when an agent is free within
// Windows.
type QueueCallback struct {
	// Key is the DTMF key (0-9, *, #) the waiting caller presses to be
	// called back; empty: callbacks off.
	Key string `mapstructure:"key" yaml:"key,omitempty"`
	// Prompt is the media played when an escalation step offers the
	// callback (e.g. sound:press-1-for-callback).
	Prompt []string `mapstructure:"prompt" yaml:"prompt,omitempty"`
	// Confirmation is the media played after the key, before hanging up.
	Confirmation []string `mapstructure:"confirmation" yaml:"confirmation,omitempty"`
	// Windows are the times callbacks may be started, in ivr.timezone:
	// "mon-fri 09:00-17:00", "sat 10:00-14:00", "09:00-18:00" (every day);
	// empty: any time. See routing.ParseWindows.
	Windows []string `mapstructure:"windows" yaml:"windows,omitempty"`
	// Attempts is how often the customer is tried (0: 3), Retry how long
	// apart (0: 5m).
	Attempts int           `mapstructure:"attempts" yaml:"attempts,omitempty"`
	Retry    time.Duration `mapstructure:"retry" yaml:"retry,omitempty"`
}

// EmptyPolicy says when a queue refuses (JoinEmpty) or removes
// (LeaveWhenEmpty) callers for lack of agents, like app_queue's joinempty
// and leavewhenempty.
type EmptyPolicy string

// Empty policies.
const (
	// EmptyNever: callers join and stay whatever the staffing (default).
	EmptyNever EmptyPolicy = ""
	// EmptyNoMembers: when no eligible agent is logged in.
	EmptyNoMembers EmptyPolicy = "no-members"
	// EmptyNoAvailable: when no eligible agent is logged in, reachable and
	// unpaused (agents on a call or in wrap-up count: they will free up).
	EmptyNoAvailable EmptyPolicy = "no-available"
)
