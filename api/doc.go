// Package api is Switchboard's HTTP surface: the versioned REST API under
// /api/v1 (bearer-token auth with roles, JSON errors carrying the domain
// error codes), its OpenAPI 3.1 description, health probes and Prometheus
// metrics.
//
// Every /api/v1 endpoint is a [Route] in one table. [Server.Handle] feeds the
// same Route to the HTTP mux and to the OpenAPI document served at
// /api/v1/openapi.json, so the published description cannot drift from what
// the server does; a test walks the table and the document both ways.
//
// Who may call a route is its Roles, and within them the caller's queue
// scope (see [Identity.SeesQueue]): a supervisor token that names queues
// sees and acts on those queues' data only. The role matrix test
// (roles_test.go) walks the same table and fails for a route that has no
// rule in it: a new route must say what each identity gets.
//
// Unauthenticated endpoints:
//
//	GET /livez                 the process is up (always 200)
//	GET /healthz               ready to take calls (503 with a reason when not;
//	                           200 "degraded" with a reason when the PBX is
//	                           overloaded, 503 then with ?strict=1)
//	GET /metrics               Prometheus exposition, meant for the local scraper
//	GET /api/v1/openapi.json   the API description
//
// /metrics carries no auth because Prometheus scrapes it from the same host or
// a management network; do not expose the listener to the internet, or put
// /metrics behind the reverse proxy's own access control.
package api
