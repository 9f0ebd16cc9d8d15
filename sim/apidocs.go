package sim

import (
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/switchboard/switchboard/sim/internal/arispec"
)

//go:generate go run ./internal/arispec/genariapi -spec ../../shared/ari-spec -out ariapi_gen.go

// served is the set of "METHOD /path" keys of Routes.
var served = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for _, r := range Routes() {
		m[r] = true
	}
	return m
})

// apiDocRoutes adds the Swagger documents a stock ARI client loads first
// (GET /ari/api-docs/resources.json, then /ari/api-docs/{resource}.json,
// listing only the operations the simulator serves) and a 501 for every
// declared operation it does not model. A declared path such as
// POST /channels/externalMedia is more specific than the served
// POST /channels/{channelId}, so the mux sends it to its 501 rather than
// to originate.
func (s *Server) apiDocRoutes(mux *http.ServeMux) {
	mux.HandleFunc("/ari/api-docs/{file}", s.handleAPIDocs)
	for _, res := range ariDeclarations.Resources {
		for _, api := range res.APIs {
			for _, op := range api.Operations {
				if !served()[op.Key(api)] {
					mux.HandleFunc(op.Method+" /ari"+api.Path, s.notModelled(res.Name, api, op))
				}
			}
		}
	}
}

// handleAPIDocs serves resources.json and each API declaration as
// Asterisk does: after authentication, GET only, basePath rewritten to
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
	if !isJSON {
		writeJSON(w, http.StatusNotFound, errBody("Resource not found"))
		return
	}
	if name == "resources" {
		writeJSON(w, http.StatusOK, ariDeclarations.ResourceListing(base))
		return
	}
	res, found := ariDeclarations.Resource(name)
	if !found {
		writeJSON(w, http.StatusNotFound, errBody("Resource not found"))
		return
	}
	writeJSON(w, http.StatusOK, res.Declaration(base, func(api arispec.API, op arispec.Operation) bool {
		return served()[op.Key(api)]
	}))
}

// notModelled answers a declared ARI operation the simulator does not
// model with 501, so that a client learns why instead of getting a 404
// or another operation's answer.
func (s *Server) notModelled(resource string, api arispec.API, op arispec.Operation) http.HandlerFunc {
	msg := errBody(fmt.Sprintf("%s %s (%s.%s) is not modelled by the simulator", op.Method, api.Path, resource, op.Nickname))
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			unauthorized(w)
			return
		}
		writeJSON(w, http.StatusNotImplemented, msg)
	}
}
