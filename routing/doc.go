// Package routing is Switchboard's ACD: queues, agents, skills, strategies
// and the router that matches waiting callers with agents.
//
// The package is pure decision logic. It imports no ARI, SQL or net/http,
// starts no goroutines and reads no clock: every entry point takes the
// current time. The call-lifecycle owner (center) runs one goroutine that
// owns a *Router; on it the package's Driver (driver.go) feeds the router
// messages with Apply, carries out the actions Apply returns (originate an
// agent leg, hang one up, play an announcement, write a queue_log line...)
// through the engine's Host, and calls Apply(Tick{}, at) again at
// NextWake. The driver too starts no goroutine and reads no clock: the
// host does both.
// Because nothing else touches the router, its decisions are reproducible
// from the message log: the same Config (including Seed) and the same
// messages at the same times give the same actions.
//
// # Agents
//
// An agent's state is derived from a few facts the router tracks: logged
// in or not, endpoint reachable or not, paused (with a reason code) or
// not, backing off after a busy or unreachable offer, and what the agent
// is doing (nothing, ringing an offer, on a call, wrapping up):
//
//	logged-out  --AgentLogin-->               available (or paused, or unavailable)
//	available   --Offer/StartCallback-->      reserved
//	reserved    --OfferAnswered/connected-->  on-call
//	reserved    --OfferFailed/ring timeout--> available, or paused "no answer"
//	                                          after MaxNoAnswer misses in a row,
//	                                          or unavailable "busy"/"unreachable"
//	                                          for a back-off period
//	reserved    --other agent answered / caller left--> available
//	on-call     --CallEnded-->                wrap-up (timed) or available
//	wrap-up     --timer/AgentEndWrapUp/AgentReady-->    available
//	any logged-in --AgentPause-->             paused (an agent ringing, on a call
//	                                          or in wrap-up finishes it first)
//	paused      --AgentReady-->               available
//	any         --EndpointReachable{false}--> unavailable (until reachable)
//	any         --AgentLogout-->              logged-out (a ringing offer is
//	                                          cancelled; a call in progress goes on)
//
// Only an available agent is offered a call, and an agent holds at most
// one offer or call.
//
// # Calls
//
//	(new)    --Enqueue--> waiting, or Exit (max-length, join-empty)
//	waiting  --route-->   offered (one agent; every candidate for ring-all)
//	offered  --OfferAnswered--> connected --CallEnded--> (gone)
//	offered  --OfferFailed/timeout of the last ringing agent--> waiting,
//	                      in the place it had (its key does not change)
//	waiting  --Abandon--> (gone); offered --Abandon--> CancelOffer, (gone)
//	waiting  --max wait / leave-when-empty / exit step--> Exit, (gone)
//	waiting  --raise-priority step--> waiting, at the place its new
//	                      priority gives it (a ringing caller takes it
//	                      if the offer fails)
//	waiting  --CallbackRequest--> waiting as a callback entry: same place,
//	                      no announcements, no max wait; when its turn comes
//	                      (and the queue's callback window is open) the router
//	                      emits StartCallback (agent first, then customer).
//
// Waiting calls are ordered by priority (higher first: Enqueue.Priority
// plus the RaisePriority of the escalation steps the caller has passed),
// then by EnteredAt, then by arrival at the router. A call is never waiting and offered at
// once, and every call ends answered, abandoned or exited.
//
// # Deciding
//
// After each message the router settles: every agent who became available
// takes the best call he may serve across all his queues (the call first in
// the order above), and every queue whose callers changed (a new caller, an
// offer returned, an escalation step, a preferred-agent window closing) is
// walked head first, each caller offered to the agent its queue's strategy
// picks among the available candidates. Per queue and escalation tier the
// router keeps the set of available eligible agents, so a decision costs
// the number of available candidates, never the number of agents.
//
// With 100,000 agents a decision's cost is memory, not arithmetic, so
// what it reads sits side by side: the queues' first callers with their
// place in line, the facts strategies rank by (one cache line per agent),
// the memberships inside the agent's record. Timers set a fixed delay
// after now (announcements, ring timeouts, wrap-ups, max waits) fire from
// one first-in-first-out lane per delay rather than from a heap, and a
// call's timers go when it is answered or gone. New runs an expression
// that reads only skills.NAME on the agents who have one of those skills
// and once for all the others.
//
// # Caller requirements
//
// A caller can ask more of the agent who serves him than his queue does:
// an IVR queue node's skills: mapping (configs/flows/README.md) reaches
// the router as Enqueue.Skills. Each entry NAME: VALUE is one requirement,
// and the agent must meet every one:
//
//	language: es   the agent speaks es (AgentConfig.Languages, any case)
//	NAME: N        N a whole number: the agent's skill NAME is at least N
//	               (as skills.NAME >= N in a skill expression)
//	NAME: TEXT     anything else: the agent's attribute NAME is TEXT
//	               (as attributes.NAME == "TEXT")
//
// An entry whose value is empty (a ${var} template whose variable is
// unset) asks nothing. Requirements narrow the agents the queue and its
// escalation steps make eligible, never widen them, and beat a preferred
// agent who falls short. A caller no free agent can serve waits, even
// beside free agents of his queue who fall short; the callers behind him
// are served meanwhile. Join-empty, leave-when-empty and the estimated
// wait count the queue's agents, not the caller's.
//
// # Estimated wait
//
// EstimatedWait blends a model and an observation. The model: the caller
// at position p (callbacks ahead count) in a tier with N staffed agents
// (logged in, reachable, not paused), F of them free, and average handle
// time AHT (an exponentially weighted average of talk plus wrap-up, starting
// from Queue.ExpectedAHT) waits max(0, p-F) x AHT / N: the p-th
// completion among N busy agents. The observation: an exponentially
// weighted average of the time answered callers waited per place they had
// in line when they entered, times p. Once five callers have been answered
// the estimate is the mean of both; before that the model alone. With no
// staffed agent the observation alone, or p x AHT when nothing was observed.
// app_queue's estimate is the running average hold time alone, which ignores
// both the caller's position and the staffing of the moment.
//
// # queue_log
//
// QueueLog actions are the lines Asterisk's app_queue writes to queue_log,
// with the same event names and data fields, so existing reporting tools
// read them. Times are seconds except RINGNOANSWER and RINGCANCELED
// (milliseconds), as in app_queue.
package routing
