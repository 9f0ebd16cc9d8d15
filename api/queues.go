package api

import (
	"context"
	"net/http"
	"time"

	"github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/routing"
)

// QueueInterval is one queue's figures over one stored interval [Start,
// Start+Seconds), as the queue statistics sampler writes them (it mirrors
// storage.QueueInterval field for field). Counts are of events in the
// interval; sums rather than averages, so that intervals add up.
type QueueInterval struct {
	Start        time.Time             `json:"start"`
	Seconds      int                   `json:"seconds"`
	Queue        switchboard.QueueName `json:"queue"`
	Offered      int                   `json:"offered"`
	Answered     int                   `json:"answered"`
	AnsweredInSL int                   `json:"answered_in_sl"`
	MissedSL     int                   `json:"missed_sl"`
	SLEstimated  bool                  `json:"sl_estimated"`
	Abandoned    int                   `json:"abandoned"`
	Exited       int                   `json:"exited"`
	Completed    int                   `json:"completed"`
	// WaitSeconds is the total wait of the calls answered.
	WaitSeconds float64 `json:"wait_seconds"`
	// HandleSeconds is the total talk + wrap-up of the calls completed.
	HandleSeconds           float64 `json:"handle_seconds"`
	MaxWaiting              int     `json:"max_waiting"`
	MaxLongestWaitSeconds   float64 `json:"max_longest_wait_seconds"`
	ServiceLevelTarget      float64 `json:"service_level_target"`
	ServiceLevelTimeSeconds float64 `json:"service_level_time_seconds"`
}

// QueueTotals are a queue's figures over a range of intervals. The ratios
// are null when nothing counts towards them.
type QueueTotals struct {
	Offered   int `json:"offered"`
	Answered  int `json:"answered"`
	Abandoned int `json:"abandoned"`
	Exited    int `json:"exited"`
	Completed int `json:"completed"`
	// ServiceLevel is answered within the service-level time over answered
	// plus abandoned or exited after it, the router's definition.
	ServiceLevel *float64 `json:"service_level"`
	// SLEstimated is true when an interval's service-level split was
	// inferred rather than counted.
	SLEstimated bool `json:"sl_estimated"`
	// ASASeconds is the average speed of answer; AHTSeconds the average
	// handle time (talk + wrap-up) of completed calls.
	ASASeconds *float64 `json:"asa_seconds"`
	AHTSeconds *float64 `json:"aht_seconds"`
	// MaxWaiting and MaxLongestWaitSeconds are the peaks of the range.
	MaxWaiting            int     `json:"max_waiting"`
	MaxLongestWaitSeconds float64 `json:"max_longest_wait_seconds"`
}

// queueTotals adds up intervals.
func queueTotals(rows []QueueInterval) QueueTotals {
	var t QueueTotals
	var inSL, missed int
	var wait, handle float64
	for _, r := range rows {
		t.Offered += r.Offered
		t.Answered += r.Answered
		t.Abandoned += r.Abandoned
		t.Exited += r.Exited
		t.Completed += r.Completed
		t.SLEstimated = t.SLEstimated || r.SLEstimated
		t.MaxWaiting = max(t.MaxWaiting, r.MaxWaiting)
		t.MaxLongestWaitSeconds = max(t.MaxLongestWaitSeconds, r.MaxLongestWaitSeconds)
		inSL += r.AnsweredInSL
		missed += r.MissedSL
		wait += r.WaitSeconds
		handle += r.HandleSeconds
	}
	ratio := func(num, den float64) *float64 {
		if den == 0 {
			return nil
		}
		v := num / den
		return &v
	}
	t.ServiceLevel = ratio(float64(inSL), float64(t.Answered+missed))
	t.ASASeconds = ratio(wait, float64(t.Answered))
	t.AHTSeconds = ratio(handle, float64(t.Completed))
	return t
}

// QueueHistoryStore reads stored queue intervals.
type QueueHistoryStore interface {
	// QueueHistory returns the queue's intervals that start in [from, to),
	// oldest first; an unknown queue has none.
	QueueHistory(ctx context.Context, queue switchboard.QueueName, from, to time.Time) ([]QueueInterval, error)
}

// Queue history range.
const (
	// DefaultQueueHistory is the range of GET /api/v1/queues/{name}/history
	// when from is absent.
	DefaultQueueHistory = 24 * time.Hour
	// MaxQueueHistory is the longest range it serves (about 3,000
	// 15-minute intervals).
	MaxQueueHistory = 31 * 24 * time.Hour
)

// queueHistoryPage is the body of GET /api/v1/queues/{name}/history.
type queueHistoryPage struct {
	Queue     switchboard.QueueName `json:"queue"`
	From      time.Time             `json:"from"`
	To        time.Time             `json:"to"`
	Intervals []QueueInterval       `json:"intervals"`
	Totals    QueueTotals           `json:"totals"`
}

// AddQueueRoutes adds the queues' live state (from live, e.g. the center's
// RoutingSnapshot) and their stored history, for supervisors and admins; a
// supervisor whose token names queues sees those only.
func (s *Server) AddQueueRoutes(live func(ctx context.Context) (routing.Snapshot, error), history QueueHistoryStore) {
	roles := []Role{RoleAdmin, RoleSupervisor}
	name := Param{Name: "name", In: "path", Description: "Queue name.", Required: true, Schema: String("")}
	queue := &Schema{Type: "object", Description: "routing.QueueSnapshot: queue, waiting, ringing, callbacks, longest_wait_ns, " +
		"service_level, service_level_target, service_level_time_ns, asa_ns, answered, abandoned, exited, completed, aht_ns, " +
		"estimated_wait_ns, logged_in, available, and calls (call, position (0 while ringing), priority, entered_at, wait_ns, " +
		"callback, ringing agents, step)."}
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/queues", Summary: "Queues, live",
		Description: "Every queue's live statistics since the router started, with its waiting and ringing callers. " +
			"A supervisor whose token names queues sees those only.",
		Roles: roles, Errors: []string{switchboard.EUNAVAILABLE},
		Response: Object(map[string]*Schema{"time": dateTime("When the snapshot was taken."), "queues": Array(queue)}, "time", "queues"),
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			snap, err := live(r.Context())
			if err != nil {
				return err
			}
			who, _ := IdentityFrom(r.Context())
			qs := []routing.QueueSnapshot{}
			for _, q := range snap.Queues {
				if who.SeesQueue(q.Queue) {
					qs = append(qs, q)
				}
			}
			writeJSON(w, http.StatusOK, map[string]any{"time": snap.Time, "queues": qs})
			return nil
		},
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/queues/{name}", Summary: "A queue, live",
		Description: "One queue's live statistics and callers; 403 for a queue outside the token's queues.",
		Roles:       roles, Params: []Param{name}, Errors: []string{switchboard.EUNAVAILABLE, switchboard.EFORBIDDEN}, Response: queue,
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			snap, err := live(r.Context())
			if err != nil {
				return err
			}
			want := switchboard.QueueName(r.PathValue("name"))
			for _, q := range snap.Queues {
				if q.Queue == want {
					who, _ := IdentityFrom(r.Context())
					if err := checkQueue(who, "the queue", want); err != nil {
						return err
					}
					writeJSON(w, http.StatusOK, q)
					return nil
				}
			}
			return switchboard.Errorf(switchboard.ENOTFOUND, "no queue %q", want)
		},
	})
	interval := &Schema{Type: "object", Description: "start, seconds, queue, offered, answered, answered_in_sl, missed_sl, sl_estimated, " +
		"abandoned, exited, completed, wait_seconds, handle_seconds, max_waiting, max_longest_wait_seconds, service_level_target, " +
		"service_level_time_seconds."}
	num := func(desc string) *Schema { return &Schema{Type: "number", Nullable: true, Description: desc} }
	totals := Object(map[string]*Schema{
		"offered": Integer(""), "answered": Integer(""), "abandoned": Integer(""), "exited": Integer(""), "completed": Integer(""),
		"service_level":            num("Answered within the service-level time / (answered + abandoned or exited after it); null without calls."),
		"sl_estimated":             {Type: "boolean", Description: "Some interval's service-level split was inferred (only rows written before the router exposed its counts)."},
		"asa_seconds":              num("Average speed of answer; null when none was answered."),
		"aht_seconds":              num("Average handle time (talk + wrap-up); null when none completed."),
		"max_waiting":              Integer("Most callers waiting seen."),
		"max_longest_wait_seconds": {Type: "number", Description: "Longest wait seen."},
	})
	s.Handle(Route{
		Method: http.MethodGet, Path: "/api/v1/queues/{name}/history", Summary: "A queue's statistics history",
		Description: "The queue's stored intervals that start in [from, to), oldest first, and totals over them. " +
			"to defaults to now and from to 24 hours before to; the range may not exceed 31 days. " +
			"A queue no longer configured keeps its history; a name never sampled has no intervals. " +
			"403 for a queue outside the token's queues.",
		Roles: roles,
		Params: []Param{name,
			{Name: "from", In: "query", Description: "Intervals starting at or after (RFC 3339); default to − 24 h.", Schema: dateTime("")},
			{Name: "to", In: "query", Description: "Intervals starting before (RFC 3339); default now.", Schema: dateTime("")},
		},
		Response: Object(map[string]*Schema{
			"queue": String(""), "from": dateTime(""), "to": dateTime(""), "intervals": Array(interval), "totals": totals,
		}, "queue", "from", "to", "intervals", "totals"),
		Handler: func(w http.ResponseWriter, r *http.Request) error {
			q := r.URL.Query()
			for _, p := range []string{"from", "to"} {
				if len(q[p]) > 1 {
					return badParam(p, "given more than once")
				}
			}
			from, to, err := timeRange(q)
			if err != nil {
				return err
			}
			if to.IsZero() {
				to = time.Now()
			}
			if from.IsZero() {
				from = to.Add(-DefaultQueueHistory)
			}
			switch {
			case !from.Before(to):
				return badParam("to", "must be after from")
			case to.Sub(from) > MaxQueueHistory:
				return badParam("from", "the range may not exceed %d days", int(MaxQueueHistory/(24*time.Hour)))
			}
			queue := switchboard.QueueName(r.PathValue("name"))
			who, _ := IdentityFrom(r.Context())
			if err := checkQueue(who, "the queue", queue); err != nil {
				return err
			}
			rows, err := history.QueueHistory(r.Context(), queue, from, to)
			if err != nil {
				return err
			}
			if rows == nil {
				rows = []QueueInterval{}
			}
			writeJSON(w, http.StatusOK, queueHistoryPage{Queue: queue, From: from.UTC(), To: to.UTC(), Intervals: rows, Totals: queueTotals(rows)})
			return nil
		},
	})
}
