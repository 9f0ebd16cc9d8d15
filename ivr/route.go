package ivr

import "time"

// Route sends calls to a flow by dialed number and calendar.
type Route struct {
	DNIS       string // exact dialed number, or "*" for any
	Flow       string
	Calendar   string // when set and closed, ClosedFlow runs instead
	ClosedFlow string
}

// FlowFor picks the flow a call to dnis runs at now: the route for the
// exact number, else the catch-all "*" (the first of each); the route's
// closed flow when its calendar is closed (cals nil: always open). ""
// when no route takes the number.
func FlowFor(routes []Route, dnis string, cals Calendars, now time.Time) string {
	var route *Route
	for i, r := range routes {
		if r.DNIS == dnis {
			route = &routes[i]
			break
		}
		if r.DNIS == "*" && route == nil {
			route = &routes[i]
		}
	}
	switch {
	case route == nil:
		return ""
	case route.Calendar != "" && cals != nil && !cals.IsOpen(route.Calendar, now):
		return route.ClosedFlow
	default:
		return route.Flow
	}
}
