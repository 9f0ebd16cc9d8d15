package sim

import (
	"net/http"
	"strings"
	"sync"
)

// The documents are Swagger 1.2 in the dialect Asterisk serves (its
// events declaration says 1.2; every declaration names fields httpMethod,
// responseClass, dataType), which npm swagger-client 2.0 (under
// ari-client) and Python swaggerpy (under ari-py) both read. apiVersion
// is that of the ARI declarations the simulator follows.
const (
	swaggerVersion = "1.2"
	apiVersion     = "2.0.0"
)

// resourceListing is resources.json.
type resourceListing struct {
	APIVersion     string        `json:"apiVersion"`
	SwaggerVersion string        `json:"swaggerVersion"`
	BasePath       string        `json:"basePath,omitempty"`
	APIs           []listingItem `json:"apis"`
}

// listingItem points at one API declaration.
type listingItem struct {
	Path        string `json:"path"`
	Description string `json:"description"`
}

// apiDeclaration is one {resource}.json.
type apiDeclaration struct {
	APIVersion     string                  `json:"apiVersion"`
	SwaggerVersion string                  `json:"swaggerVersion"`
	BasePath       string                  `json:"basePath,omitempty"`
	ResourcePath   string                  `json:"resourcePath"`
	APIs           []apiPath               `json:"apis"`
	Models         map[string]swaggerModel `json:"models"`
}

// apiPath is one path of a declaration with its operations.
type apiPath struct {
	Path       string             `json:"path"`
	Operations []swaggerOperation `json:"operations"`
}

// swaggerOperation is one served operation.
type swaggerOperation struct {
	HTTPMethod        string         `json:"httpMethod"`
	Upgrade           string         `json:"upgrade,omitempty"`
	WebsocketProtocol string         `json:"websocketProtocol,omitempty"`
	Summary           string         `json:"summary"`
	Nickname          string         `json:"nickname"`
	ResponseClass     string         `json:"responseClass"`
	Parameters        []swaggerParam `json:"parameters"`
}

// swaggerParam is one operation parameter.
type swaggerParam struct {
	Name          string `json:"name"`
	ParamType     string `json:"paramType"`
	DataType      string `json:"dataType"`
	Required      bool   `json:"required"`
	AllowMultiple bool   `json:"allowMultiple"`
}

// swaggerModel is one model; only events.json has any.
type swaggerModel struct {
	ID            string                     `json:"id"`
	Discriminator string                     `json:"discriminator,omitempty"`
	SubTypes      []string                   `json:"subTypes,omitempty"`
	Properties    map[string]swaggerProperty `json:"properties"`
}

// swaggerProperty is one model property.
type swaggerProperty struct {
	Type     string `json:"type"`
	Required bool   `json:"required,omitempty"`
}

// key is the operation's "METHOD /path", the form of Routes.
func (op apiOp) key() string { return op.method + " " + op.path }

// resource is the declaration the operation belongs to: the path's first
// segment, as in Asterisk's files.
func (op apiOp) resource() string {
	name, _, _ := strings.Cut(strings.TrimPrefix(op.path, "/"), "/")
	return name
}

// parameters expands op.params (syntax on apiOp) after the path's own.
func (op apiOp) parameters() []swaggerParam {
	out := []swaggerParam{}
	for _, seg := range strings.Split(op.path, "/") {
		if name, isVar := strings.CutPrefix(seg, "{"); isVar {
			out = append(out, swaggerParam{Name: strings.TrimSuffix(name, "}"), ParamType: "path", DataType: "string", Required: true})
		}
	}
	for _, f := range strings.Fields(op.params) {
		p := swaggerParam{ParamType: "query", DataType: "string"}
		f, p.AllowMultiple = strings.CutSuffix(f, "*")
		f, p.Required = strings.CutSuffix(f, "!")
		name, dataType, typed := strings.Cut(f, ":")
		p.Name = name
		if typed {
			p.DataType = dataType
		}
		if p.DataType == "containers" {
			p.ParamType = "body"
		}
		out = append(out, p)
	}
	return out
}

// doc renders the operation.
func (op apiOp) doc() swaggerOperation {
	d := swaggerOperation{HTTPMethod: op.method, Summary: op.summary, Nickname: op.nickname,
		ResponseClass: op.returns, Parameters: op.parameters()}
	if op.key() == eventsWebsocket {
		d.Upgrade, d.WebsocketProtocol = "websocket", "ari"
	}
	return d
}

// eventSwaggerModels renders eventModels, with Message, the type the
// websocket answers, naming each event type as a subtype told apart by
// "type".
func eventSwaggerModels() map[string]swaggerModel {
	msg := swaggerModel{ID: "Message", Discriminator: "type",
		Properties: map[string]swaggerProperty{"type": {Type: "string", Required: true}}}
	out := map[string]swaggerModel{}
	for _, e := range eventModels {
		m := swaggerModel{ID: e.event, Properties: map[string]swaggerProperty{}}
		for _, f := range strings.Fields(e.objects) {
			name, typ, _ := strings.Cut(f, ":")
			m.Properties[name] = swaggerProperty{Type: typ}
		}
		out[e.event] = m
		msg.SubTypes = append(msg.SubTypes, e.event)
	}
	out[msg.ID] = msg
	return out
}

// apiDocs are the documents, built once without a basePath.
type apiDocs struct {
	listing resourceListing
	decls   map[string]apiDeclaration
}

var servedAPIDocs = sync.OnceValue(func() apiDocs {
	d := apiDocs{
		listing: resourceListing{APIVersion: apiVersion, SwaggerVersion: swaggerVersion, APIs: []listingItem{}},
		decls:   map[string]apiDeclaration{},
	}
	for _, r := range apiResources {
		path := "/api-docs/" + r.name + ".{format}"
		d.listing.APIs = append(d.listing.APIs, listingItem{Path: path, Description: r.description})
		d.decls[r.name] = apiDeclaration{APIVersion: apiVersion, SwaggerVersion: swaggerVersion, ResourcePath: path,
			APIs: []apiPath{}, Models: map[string]swaggerModel{}}
	}
	at := map[string]int{} // path -> index in its declaration's APIs
	for _, op := range apiOps {
		decl := d.decls[op.resource()]
		if i, seen := at[op.path]; seen {
			decl.APIs[i].Operations = append(decl.APIs[i].Operations, op.doc())
		} else {
			at[op.path] = len(decl.APIs)
			decl.APIs = append(decl.APIs, apiPath{Path: op.path, Operations: []swaggerOperation{op.doc()}})
		}
		d.decls[op.resource()] = decl
	}
	events := d.decls["events"]
	events.Models = eventSwaggerModels()
	d.decls["events"] = events
	return d
})

// apiDocRoutes adds the Swagger documents a stock ARI client loads first
// (GET /ari/api-docs/resources.json, then each /ari/api-docs/{resource}.json)
// and a 501 for every operation in notModelledOps. A declared path such as
// POST /channels/externalMedia is more specific than the served
// POST /channels/{channelId}, so the mux sends it to its 501 rather than
// to originate.
func (s *Server) apiDocRoutes(mux *countingMux) {
	mux.HandleFunc("/ari/api-docs/{file}", s.handleAPIDocs)
	for _, op := range notModelledOps {
		method, path, _ := strings.Cut(op, " ")
		mux.HandleFunc(method+" /ari"+path, s.notModelledHandler(op))
	}
}

// handleAPIDocs serves resources.json and each API declaration as
// Asterisk does: after authentication, GET only, basePath
// http://{Host}/ari (left out without a Host), 404 for an unknown file.
func (s *Server) handleAPIDocs(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeJSON(w, http.StatusMethodNotAllowed, errBody("Unsupported method"))
		return
	}
	base := ""
	if r.Host != "" {
		base = "http://" + r.Host + "/ari"
	}
	name, isJSON := strings.CutSuffix(r.PathValue("file"), ".json")
	docs := servedAPIDocs()
	if name == "resources" && isJSON {
		listing := docs.listing
		listing.BasePath = base
		writeJSON(w, http.StatusOK, listing)
		return
	}
	decl, found := docs.decls[name]
	if !found || !isJSON {
		writeJSON(w, http.StatusNotFound, errBody("Resource not found"))
		return
	}
	decl.BasePath = base
	writeJSON(w, http.StatusOK, decl)
}

// notModelledHandler answers a declared ARI operation the simulator does not
// model with 501, so that a client learns why instead of getting a 404
// or another operation's answer.
func (s *Server) notModelledHandler(op string) http.HandlerFunc {
	msg := errBody(op + " is not modelled by the simulator")
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			unauthorized(w)
			return
		}
		writeJSON(w, http.StatusNotImplemented, msg)
	}
}
