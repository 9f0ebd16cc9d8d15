package api

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard/switchboard"
)

// Schema is a JSON Schema (the OpenAPI 3.1 dialect) for parameters and
// bodies: the subset Switchboard's API uses.
type Schema struct {
	// Ref points at a component schema; see [Ref]. Other fields are then
	// ignored except Description.
	Ref string `json:"$ref,omitempty"`
	// Type is string, integer, number, boolean, object or array.
	Type string `json:"-"`
	// Nullable also allows JSON null (type: [T, "null"]).
	Nullable bool `json:"-"`
	// Format refines Type: date-time, int64 ...
	Format string `json:"format,omitempty"`
	// Description says what the value means, for integrators.
	Description string `json:"description,omitempty"`
	// Enum lists the allowed values of a string.
	Enum []string `json:"enum,omitempty"`
	// Items is the schema of an array's elements.
	Items *Schema `json:"items,omitempty"`
	// Properties are an object's members.
	Properties map[string]*Schema `json:"properties,omitempty"`
	// AdditionalProperties is the schema of a map's values.
	AdditionalProperties *Schema `json:"additionalProperties,omitempty"`
	// Required names the properties always present.
	Required []string `json:"required,omitempty"`
	// Minimum and Maximum bound an integer.
	Minimum *int `json:"minimum,omitempty"`
	// Maximum bounds an integer from above.
	Maximum *int `json:"maximum,omitempty"`
	// MaxLength bounds a string's length.
	MaxLength *int `json:"maxLength,omitempty"`
	// Default is the value assumed when a parameter is absent.
	Default any `json:"default,omitempty"`
	// Example is a sample value.
	Example any `json:"example,omitempty"`
}

// MarshalJSON writes type as a string, or as [T, "null"] when Nullable.
func (s *Schema) MarshalJSON() ([]byte, error) {
	type plain Schema
	out := struct {
		Type any `json:"type,omitempty"`
		*plain
	}{plain: (*plain)(s)}
	switch {
	case s.Type != "" && s.Nullable:
		out.Type = []string{s.Type, "null"}
	case s.Type != "":
		out.Type = s.Type
	}
	return json.Marshal(out)
}

// Ref returns a schema that refers to the component schema name (see
// [Server.DefineSchema]).
func Ref(name string) *Schema { return &Schema{Ref: "#/components/schemas/" + name} }

// String returns a string schema. String, Integer, Object and Array are
// shorthands for the schemas routes declare.
func String(desc string) *Schema { return &Schema{Type: "string", Description: desc} }

// Integer returns an integer schema.
func Integer(desc string) *Schema { return &Schema{Type: "integer", Description: desc} }

// Object returns an object schema with the given properties and required
// property names.
func Object(props map[string]*Schema, required ...string) *Schema {
	return &Schema{Type: "object", Properties: props, Required: required}
}

// Array returns an array schema of items.
func Array(items *Schema) *Schema { return &Schema{Type: "array", Items: items} }

func intp(n int) *int { return &n }

func dateTime(desc string) *Schema {
	return &Schema{Type: "string", Format: "date-time", Description: desc}
}

func enumOf[T ~string](desc string, vals []T) *Schema {
	s := String(desc)
	for _, v := range vals {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// OpenAPI document types. Field order follows the specification so the
// served document reads naturally.
type (
	openAPIDoc struct {
		OpenAPI    string                           `json:"openapi"`
		Info       openAPIInfo                      `json:"info"`
		Paths      map[string]map[string]*operation `json:"paths"`
		Components components                       `json:"components"`
	}
	openAPIInfo struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	}
	operation struct {
		OperationID string                `json:"operationId"`
		Summary     string                `json:"summary"`
		Description string                `json:"description,omitempty"`
		Parameters  []parameter           `json:"parameters,omitempty"`
		RequestBody *requestBody          `json:"requestBody,omitempty"`
		Responses   map[string]response   `json:"responses"`
		Security    []map[string][]string `json:"security"`
		Roles       []Role                `json:"x-roles,omitempty"`
	}
	parameter struct {
		Name        string  `json:"name"`
		In          string  `json:"in"`
		Description string  `json:"description,omitempty"`
		Required    bool    `json:"required,omitempty"`
		Schema      *Schema `json:"schema"`
	}
	requestBody struct {
		Required bool                 `json:"required"`
		Content  map[string]mediaType `json:"content"`
	}
	response struct {
		Description string               `json:"description"`
		Content     map[string]mediaType `json:"content,omitempty"`
	}
	mediaType struct {
		Schema *Schema `json:"schema"`
	}
	components struct {
		Schemas         map[string]*Schema        `json:"schemas"`
		SecuritySchemes map[string]securityScheme `json:"securitySchemes"`
	}
	securityScheme struct {
		Type        string `json:"type"`
		Scheme      string `json:"scheme"`
		Description string `json:"description,omitempty"`
	}
)

const apiDescription = `Switchboard's REST API.

Authenticate with ` + "`Authorization: Bearer <token>`" + `. Each token has a role
(admin, supervisor, agent); each operation lists the roles it allows in
` + "`x-roles`" + `. A supervisor token may be limited to some queues: it then
sees and acts on those queues' calls, call log, recordings, campaigns, agents
and statistics only (lists are filtered; naming anything else is 403). An
agent acts on itself only. Errors are always ` + "`{\"error\":{\"code\":\"...\",\"message\":\"...\"}}`" + `
with a stable machine-readable code. Unknown query parameters are rejected
with 400 so a misspelt filter is never silently ignored.

Outside this API: GET /livez (process up), GET /healthz and GET /metrics
(Prometheus) need no token. GET /healthz answers 200 ` + "`{\"status\":\"ready\"}`" + `;
200 ` + "`{\"status\":\"degraded\",\"reason\":\"PBX overloaded: ...\"}`" + ` when calls are
taken but the PBX is overloaded (too many ARI requests failing or slow over
the last ` + "`asterisk.overload.window`" + `), 503 instead with ` + "`?strict=1`" + `; and 503
` + "`{\"status\":\"not_ready\",\"reason\":...}`" + ` when calls cannot be taken (PBX link
down, credentials refused, draining).`

// openAPI builds the document from the route table.
func (s *Server) openAPI() *openAPIDoc {
	s.mu.RLock()
	defer s.mu.RUnlock()
	doc := &openAPIDoc{
		OpenAPI: "3.1.0",
		Info: openAPIInfo{
			Title:       "Switchboard API",
			Version:     "1",
			Description: apiDescription,
		},
		Paths: map[string]map[string]*operation{},
		Components: components{
			Schemas: maps.Clone(s.schemas),
			SecuritySchemes: map[string]securityScheme{
				"bearer": {Type: "http", Scheme: "bearer", Description: "A token configured with a role; the server stores only its SHA-256."},
			},
		},
	}
	for _, r := range s.routes {
		p := openAPIPath(r.Path)
		if doc.Paths[p] == nil {
			doc.Paths[p] = map[string]*operation{}
		}
		doc.Paths[p][strings.ToLower(r.Method)] = r.operation()
	}
	return doc
}

// openAPIPath turns a mux pattern path into an OpenAPI path template:
// {rest...} becomes {rest} and {$} is dropped.
func openAPIPath(p string) string {
	p = strings.ReplaceAll(p, "{$}", "")
	return strings.ReplaceAll(p, "...}", "}")
}

func (r Route) operation() *operation {
	op := &operation{
		OperationID: r.OperationID,
		Summary:     r.Summary,
		Description: r.Description,
		Responses:   map[string]response{},
		Security:    []map[string][]string{},
		Roles:       r.Roles,
	}
	for _, p := range r.Params {
		sc := p.Schema
		if sc == nil {
			sc = String("")
		}
		op.Parameters = append(op.Parameters, parameter{
			Name: p.Name, In: p.In, Description: p.Description,
			Required: p.Required || p.In == "path", Schema: sc,
		})
	}
	if r.Body != nil {
		op.RequestBody = &requestBody{Required: len(r.Body.Required) > 0, Content: map[string]mediaType{"application/json": {Schema: r.Body}}}
	}
	ok := response{Description: http.StatusText(r.Status)}
	if r.Response != nil {
		ok.Content = map[string]mediaType{"application/json": {Schema: r.Response}}
	}
	op.Responses[strconv.Itoa(r.Status)] = ok

	// Every route can answer a bad query (unknown parameters are rejected)
	// and an internal error.
	codes := []string{switchboard.EINVALID, switchboard.EINTERNAL}
	if !r.Public {
		op.Security = []map[string][]string{{"bearer": {}}}
		codes = append(codes, switchboard.EUNAUTHORIZED, switchboard.EFORBIDDEN)
	}
	if slices.ContainsFunc(r.Params, func(p Param) bool { return p.In == "path" }) {
		codes = append(codes, switchboard.ENOTFOUND)
	}
	if r.Body != nil {
		codes = append(codes, errTooLarge, errUnsupportedType)
	}
	codes = append(codes, r.Errors...)
	for _, c := range codes {
		st := statusOf(c)
		op.Responses[strconv.Itoa(st)] = response{
			Description: http.StatusText(st),
			Content:     map[string]mediaType{"application/json": {Schema: Ref("Error")}},
		}
	}
	return op
}

// serveOpenAPI is GET /api/v1/openapi.json.
func (s *Server) serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.openAPI())
	return nil
}

// errorCodes are the codes an API error may carry.
var errorCodes = []string{
	switchboard.EINVALID, switchboard.EUNAUTHORIZED, switchboard.EFORBIDDEN,
	switchboard.ENOTFOUND, errMethodNotAllowed, switchboard.ECONFLICT,
	switchboard.EUNPROCESSABLE, switchboard.EINTERNAL, switchboard.ENOTIMPLEMENTED,
	switchboard.EUNAVAILABLE, errTooLarge, errUnsupportedType,
}

// stringMap is an object whose values are strings.
func stringMap(desc string) *Schema {
	return &Schema{Type: "object", Description: desc, AdditionalProperties: String("")}
}

// coreSchemas are the component schemas of the core routes. Their property
// names are checked against the Go types' JSON tags by a test.
func coreSchemas() map[string]*Schema {
	callStates := []switchboard.CallState{
		switchboard.CallEntered, switchboard.CallAnswered, switchboard.CallIVR, switchboard.CallTransfer, switchboard.CallPrompting,
		switchboard.CallRinging, switchboard.CallBridged, switchboard.CallEnded,
	}
	nullTime := func(desc string) *Schema {
		s := dateTime(desc)
		s.Nullable = true
		return s
	}
	return map[string]*Schema{
		"Error": Object(map[string]*Schema{
			"error": Object(map[string]*Schema{
				"code":    enumOf("Stable machine-readable code.", errorCodes),
				"message": String("Human-readable detail; internal errors carry a generic text."),
			}, "code", "message"),
		}, "error"),
		"Identity": Object(map[string]*Schema{
			"name": String("The token's configured name."),
			"role": enumOf("The token's role.", Roles),
			"queues": Array(String("A queue of a supervisor token's scope; absent when it sees every queue " +
				"(admins, supervisors without a scope; agents act on themselves only).")),
		}, "name", "role"),
		"Call": Object(map[string]*Schema{
			"id":            String("Call id (the caller channel's id)."),
			"node":          String("PBX node carrying the call."),
			"state":         enumOf("Life-cycle state.", callStates),
			"caller":        String("Caller number (ANI)."),
			"caller_name":   String("Caller name, when the network sent one."),
			"called":        String("Dialled number (DNIS)."),
			"queue":         String("Queue the call is in or was routed through."),
			"agent":         String("Agent ringing or talking."),
			"agent_channel": String("The agent leg's channel id."),
			"bridge":        String("Bridge joining caller and agent."),
			"entered":       dateTime("When the call entered Switchboard."),
			"answered":      dateTime("When Switchboard answered; absent until then."),
			"bridged":       dateTime("When the agent answered; absent until then."),
			"ivr_node":      String("Flow and node the caller is in (flow/node), while in the IVR."),
			"ivr_vars":      stringMap("Flow variables so far: what the agent who answers sees."),
			"ivr_path":      Ref("IVRPath"),
		}, "id", "state", "caller", "called", "entered"),
		"IVRPath": Object(map[string]*Schema{
			"flow":    String("Flow the call entered."),
			"version": Integer("Version of the flow set the call ran on."),
			"visits": Array(Object(map[string]*Schema{
				"flow":    String("Flow of the node."),
				"node":    String("Node name."),
				"type":    String("Node type (play, menu, gather, ...)."),
				"at":      {Type: "number", Description: "Seconds since the call entered the flow."},
				"keys":    String("Keys pressed in this node."),
				"prompts": Array(String("Media URI.")),
				"result":  String("What happened: key 2, timeout, lookup failed: ..."),
			}, "flow", "node", "type", "at")),
			"vars": stringMap("Flow variables at the end."),
			"end":  String("How the flow ended: queue:NAME, transfer:TARGET, hangup, caller-hangup, voicemail:MAILBOX."),
		}, "flow", "version", "visits", "end"),
		"CDR": Object(map[string]*Schema{
			"id":           Integer("Row id."),
			"call_id":      String("Call id."),
			"node":         String("PBX node that carried the call."),
			"caller":       String("Caller number (ANI)."),
			"caller_name":  String("Caller name."),
			"called":       String("Dialled number (DNIS)."),
			"queue":        String("Queue."),
			"agent":        String("Agent who took the call, empty if none."),
			"entered":      dateTime("When the call entered Switchboard."),
			"answered":     nullTime("When Switchboard answered."),
			"bridged":      nullTime("When caller and agent were bridged."),
			"ended":        dateTime("When the call ended."),
			"outcome":      enumOf("How the call ended.", switchboard.Outcomes),
			"hangup_cause": Integer("Q.850 cause (16 normal clearing, 17 busy, 19 no answer...)."),
			"hangup_by":    String("Who hung up: caller, agent or system."),
			"ivr_path":     {Ref: "#/components/schemas/IVRPath", Description: "The caller's path through the IVR; null when no flow ran."},
		}, "id", "call_id", "caller", "called", "entered", "ended", "outcome"),
		"CallList": Object(map[string]*Schema{
			"calls": Array(Ref("Call")),
		}, "calls"),
		"CDRPage": Object(map[string]*Schema{
			"rows":        Array(Ref("CDR")),
			"total":       Integer("Rows matching the filter across all pages."),
			"limit":       Integer("Page size used."),
			"offset":      Integer("Rows skipped."),
			"next_offset": Integer("Offset of the next page; absent on the last page."),
			"next":        String("Relative URL of the next page, same filters; absent on the last page."),
		}, "rows", "total", "limit", "offset"),
	}
}
