package sim

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// getDoc fetches an api-docs document with the test credentials and
// decodes it into each of into.
func getDoc(t *testing.T, s *Server, name string, into ...any) {
	t.Helper()
	code, b := call(t, s, "GET", "/api-docs/"+name, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /ari/api-docs/%s: %d %s", name, code, b)
	}
	for _, v := range into {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("decode %s: %v", name, err)
		}
	}
}

// servedDocs loads resources.json and every declaration it lists, as a
// Swagger client does, and returns the declarations by resource name,
// also as raw JSON trees for shape checks.
func servedDocs(t *testing.T, s *Server) (resourceListing, map[string]apiDeclaration, map[string]any, map[string]map[string]any) {
	t.Helper()
	var listing resourceListing
	var rawListing map[string]any
	getDoc(t, s, "resources.json", &listing, &rawListing)
	decls, raw := map[string]apiDeclaration{}, map[string]map[string]any{}
	for _, a := range listing.APIs {
		name := strings.TrimSuffix(strings.TrimPrefix(a.Path, "/api-docs/"), ".{format}")
		var d apiDeclaration
		var m map[string]any
		getDoc(t, s, name+".json", &d, &m)
		decls[name], raw[name] = d, m
	}
	return listing, decls, rawListing, raw
}

// requireKeys checks that obj is a JSON object holding every key, as
// Python swaggerpy's validation demands of each part of the documents.
func requireKeys(t *testing.T, where string, obj any, keys ...string) map[string]any {
	t.Helper()
	m, ok := obj.(map[string]any)
	if !ok {
		t.Errorf("%s: not an object: %v", where, obj)
		return nil
	}
	for _, k := range keys {
		if _, has := m[k]; !has {
			t.Errorf("%s: no %q", where, k)
		}
	}
	return m
}

func objects(v any) []any {
	list, _ := v.([]any)
	return list
}

func TestAPIDocsShape(t *testing.T) {
	s := startSim(t, Options{})
	listing, decls, rawListing, raw := servedDocs(t, s)
	base := "http://" + s.Addr() + "/ari"
	eq(t, "listing basePath", listing.BasePath, base)
	eq(t, "listing swaggerVersion", listing.SwaggerVersion, "1.2")
	eq(t, "resources", len(decls), len(apiResources))
	requireKeys(t, "resources.json", rawListing, "apiVersion", "swaggerVersion", "basePath", "apis")
	for i, a := range objects(rawListing["apis"]) {
		m := requireKeys(t, "resources.json apis["+strconv.Itoa(i)+"]", a, "path", "description")
		if p, _ := m["path"].(string); !strings.HasPrefix(p, "/api-docs/") || !strings.HasSuffix(p, ".{format}") {
			t.Errorf("listing path %q, want /api-docs/NAME.{format}", p)
		}
	}

	listed := map[string]string{} // "METHOD path" -> "resource.nickname"
	for name, d := range decls {
		eq(t, name+" basePath", d.BasePath, base)
		eq(t, name+" swaggerVersion", d.SwaggerVersion, "1.2")
		eq(t, name+" resourcePath", d.ResourcePath, "/api-docs/"+name+".{format}")
		doc := requireKeys(t, name, raw[name], "apiVersion", "swaggerVersion", "basePath", "resourcePath", "apis", "models")
		paths := map[string]bool{}
		for _, a := range objects(doc["apis"]) {
			api := requireKeys(t, name+" api", a, "path", "operations")
			path, _ := api["path"].(string)
			if paths[path] {
				t.Errorf("%s: path %s listed twice", name, path)
			}
			paths[path] = true
			if !strings.HasPrefix(path, "/"+name) {
				t.Errorf("%s: path %s outside the resource", name, path)
			}
			for _, o := range objects(api["operations"]) {
				op := requireKeys(t, name+" "+path, o, "httpMethod", "nickname", "summary", "responseClass", "parameters")
				key := op["httpMethod"].(string) + " " + path
				if prev, dup := listed[key]; dup {
					t.Errorf("%s listed twice (%s, %s)", key, prev, name)
				}
				listed[key] = name + "." + op["nickname"].(string)
				checkParams(t, key, objects(op["parameters"]))
			}
		}
		models, _ := doc["models"].(map[string]any)
		for id, m := range models {
			model := requireKeys(t, name+" model "+id, m, "id", "properties")
			eq(t, name+" model id", model["id"], any(id))
			props, _ := model["properties"].(map[string]any)
			for p, v := range props {
				requireKeys(t, name+" model "+id+"."+p, v, "type")
			}
		}
	}
	eq(t, "listed operations", strings.Join(slices.Sorted(maps.Keys(listed)), "\n"),
		strings.Join(slices.Sorted(slices.Values(Routes())), "\n"))

	// A Swagger client finds the resources it wraps answers in, and every
	// event type with the fields that hold objects.
	for _, tc := range []struct{ route, want string }{
		{"POST /channels", "channels.originate"},
		{"POST /channels/{channelId}", "channels.originateWithId"},
		{"DELETE /channels/{channelId}", "channels.hangup"},
		{"POST /channels/{channelId}/play", "channels.play"},
		{"POST /bridges/{bridgeId}/addChannel", "bridges.addChannel"},
		{"POST /recordings/live/{recordingName}/stop", "recordings.stop"},
		{"GET /events", "events.eventWebsocket"},
	} {
		eq(t, tc.route, listed[tc.route], tc.want)
	}
	events := decls["events"].Models
	eq(t, "StasisStart channel", events["StasisStart"].Properties["channel"].Type, "Channel")
	eq(t, "Dial peer", events["Dial"].Properties["peer"].Type, "Channel")
	eq(t, "RecordingFinished recording", events["RecordingFinished"].Properties["recording"].Type, "LiveRecording")
	eq(t, "Message discriminator", events["Message"].Discriminator, "type")
	eq(t, "Message subtypes", len(events["Message"].SubTypes), len(eventModels))
	ws := decls["events"].APIs[0].Operations[0]
	eq(t, "websocket upgrade", ws.Upgrade+"/"+ws.WebsocketProtocol, "websocket/ari")
	for name, d := range decls {
		if name != "events" && len(d.Models) != 0 {
			t.Errorf("%s declares models; only events.json needs them", name)
		}
	}
	if len(decls["mailboxes"].APIs) != 0 {
		t.Error("mailboxes lists an operation the simulator does not serve")
	}
}

// checkParams checks one operation's parameters: each named and typed,
// no name twice, and the path parameters exactly the path's {names}.
func checkParams(t *testing.T, key string, params []any) {
	t.Helper()
	_, path, _ := strings.Cut(key, " ")
	var inPath []string
	for _, seg := range strings.Split(path, "/") {
		if strings.HasPrefix(seg, "{") {
			inPath = append(inPath, strings.Trim(seg, "{}"))
		}
	}
	var pathParams []string
	seen := map[string]bool{}
	for _, p := range params {
		m := requireKeys(t, key+" parameter", p, "name", "paramType", "dataType", "required", "allowMultiple")
		name, _ := m["name"].(string)
		if name == "" || seen[name] {
			t.Errorf("%s: parameter name %q empty or repeated", key, name)
		}
		seen[name] = true
		switch m["paramType"] {
		case "path":
			pathParams = append(pathParams, name)
			if m["required"] != true {
				t.Errorf("%s: path parameter %s not required", key, name)
			}
		case "query", "body":
		default:
			t.Errorf("%s: %s has paramType %v", key, name, m["paramType"])
		}
	}
	eq(t, key+" path parameters", strings.Join(pathParams, ","), strings.Join(inPath, ","))
}

// The declaration and routeTable describe the same operations.
func TestAPIOpsParallelRouteTable(t *testing.T) {
	declared := map[string]bool{}
	for _, op := range apiOps {
		if declared[op.key()] {
			t.Errorf("%s declared twice", op.key())
		}
		declared[op.key()] = true
		if !slices.ContainsFunc(apiResources, func(r apiResource) bool { return r.name == op.resource() }) {
			t.Errorf("%s: no resource %s", op.key(), op.resource())
		}
		if op.nickname == "" || op.summary == "" || op.returns == "" {
			t.Errorf("%s: nickname, summary or responseClass missing", op.key())
		}
	}
	for _, r := range Routes() {
		if !declared[r] {
			t.Errorf("served %s has no declaration in apiOps", r)
		}
		delete(declared, r)
	}
	for k := range declared {
		t.Errorf("%s is declared but not served", k)
	}
	for _, op := range notModelledOps {
		if slices.Contains(Routes(), op) {
			t.Errorf("%s is served and in notModelledOps", op)
		}
	}
}

func TestAPIDocsBasePathFollowsHost(t *testing.T) {
	s := startSim(t, Options{})
	for _, file := range []string{"resources.json", "channels.json"} {
		req, _ := http.NewRequest("GET", s.URL()+"/api-docs/"+file, nil)
		req.Host = "pbx.example.com:8088"
		req.SetBasicAuth(testUser, testPass)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var d struct{ BasePath string }
		err = json.NewDecoder(resp.Body).Decode(&d)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		eq(t, file+" basePath", d.BasePath, "http://pbx.example.com:8088/ari")
	}
}

func TestUnmodelledAndUnknownRoutes(t *testing.T) {
	s := startSim(t, Options{})
	const notModelled = "not modelled by the simulator"
	for _, tc := range []struct {
		name, method, path string
		auth               bool
		code               int
		msg                string
	}{
		{"externalMedia is not originate", "POST", "/ari/channels/externalMedia?app=a&external_host=127.0.0.1:9&format=ulaw", true, 501, "POST /channels/externalMedia is " + notModelled},
		{"user event", "POST", "/ari/events/user/ping?application=a", true, 501, "POST /events/user/{eventName} is " + notModelled},
		{"rtp statistics", "GET", "/ari/channels/c1/rtp_statistics", true, 501, notModelled},
		{"channel variables", "GET", "/ari/channels/c1/variables", true, 501, notModelled},
		{"transfer progress", "POST", "/ari/channels/c1/transfer_progress", true, 501, notModelled},
		{"device state get", "GET", "/ari/deviceStates/Stasis:x", true, 501, notModelled},
		{"device state update", "PUT", "/ari/deviceStates/Stasis:x?deviceState=BUSY", true, 501, notModelled},
		{"mailboxes", "GET", "/ari/mailboxes", true, 501, notModelled},
		{"dynamic config", "GET", "/ari/asterisk/config/dynamic/res_pjsip/endpoint/1001", true, 501, notModelled},
		{"modules", "GET", "/ari/asterisk/modules", true, 501, notModelled},
		{"event filter", "PUT", "/ari/applications/a/eventFilter", true, 501, notModelled},
		{"bridge variable", "GET", "/ari/bridges/b1/variable?variable=X", true, 501, notModelled},
		{"send message", "PUT", "/ari/endpoints/sendMessage?to=a&from=b", true, 501, notModelled},
		{"unmodelled needs auth", "POST", "/ari/channels/externalMedia", false, 401, "Authentication required"},
		{"unknown ARI path", "GET", "/ari/nothing/here", true, 404, "Resource not found"},
		{"unknown ARI path needs auth", "GET", "/ari/nothing/here", false, 401, "Authentication required"},
		{"resources.json", "GET", "/ari/api-docs/resources.json", true, 200, ""},
		{"resources.json needs auth", "GET", "/ari/api-docs/resources.json", false, 401, "Authentication required"},
		{"declaration needs auth", "GET", "/ari/api-docs/channels.json", false, 401, "Authentication required"},
		{"unknown declaration", "GET", "/ari/api-docs/nothing.json", true, 404, "Resource not found"},
		{"declaration without .json", "GET", "/ari/api-docs/channels", true, 404, "Resource not found"},
		{"resources without .json", "GET", "/ari/api-docs/resources", true, 404, "Resource not found"},
		{"api-docs are GET only", "POST", "/ari/api-docs/resources.json", true, 405, "Unsupported method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, "http://"+s.Addr()+tc.path, nil)
			if tc.auth {
				req.SetBasicAuth(testUser, testPass)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			eq(t, "status", resp.StatusCode, tc.code)
			if tc.msg != "" {
				got, _ := mustJSON(t, b)["message"].(string)
				if !strings.Contains(got, tc.msg) {
					t.Errorf("message %q, want it to contain %q", got, tc.msg)
				}
			}
		})
	}
	if n := len(s.Channels()); n != 0 {
		t.Errorf("%d channels after unmodelled requests, want 0 (externalMedia must not originate)", n)
	}
}

// Every operation of notModelledOps answers 501 with its own name; none
// falls through to 404 or to a served operation.
func TestEveryNotModelledOperationAnswers501(t *testing.T) {
	s := startSim(t, Options{})
	for _, op := range notModelledOps {
		method, path, _ := strings.Cut(op, " ")
		var segs []string
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, "{") {
				seg = "x1"
			}
			segs = append(segs, seg)
		}
		code, b := call(t, s, method, strings.Join(segs, "/"), nil, nil)
		want := op + " is not modelled by the simulator"
		if got, _ := mustJSON(t, b)["message"].(string); code != 501 || got != want {
			t.Errorf("%s: %d %s, want 501 %q", op, code, b, want)
		}
	}
}

// ---- agreement with Asterisk's declarations (../shared/ari-spec) ----

type asteriskParam struct {
	Name          string `json:"name"`
	ParamType     string `json:"paramType"`
	DataType      string `json:"dataType"`
	Required      bool   `json:"required"`
	AllowMultiple bool   `json:"allowMultiple"`
}

type asteriskOp struct {
	resource      string
	HTTPMethod    string          `json:"httpMethod"`
	Nickname      string          `json:"nickname"`
	ResponseClass string          `json:"responseClass"`
	Upgrade       string          `json:"upgrade"`
	Parameters    []asteriskParam `json:"parameters"`
}

type asteriskModel struct {
	SubTypes   []string `json:"subTypes"`
	Properties map[string]struct {
		Type     string `json:"type"`
		Required bool   `json:"required"`
	} `json:"properties"`
}

// loadAsteriskDecls reads every declaration of ../shared/ari-spec: the
// operations by "METHOD path", the resource names and the events models.
func loadAsteriskDecls(t *testing.T) (ops map[string]asteriskOp, resources []string, events map[string]asteriskModel) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(specDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("ARI declarations not found in %s", specDir)
	}
	ops = map[string]asteriskOp{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if name == "resources" {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			APIs []struct {
				Path       string       `json:"path"`
				Operations []asteriskOp `json:"operations"`
			} `json:"apis"`
			Models map[string]asteriskModel `json:"models"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		resources = append(resources, name)
		for _, a := range d.APIs {
			for _, op := range a.Operations {
				op.resource = name
				ops[op.HTTPMethod+" "+a.Path] = op
			}
		}
		if name == "events" {
			events = d.Models
		}
	}
	return ops, resources, events
}

// Each served operation is Asterisk's: same resource, nickname and
// responseClass, every parameter it lists declared by Asterisk with the
// same kind, type, repetition and requiredness, and none of Asterisk's
// required parameters left out.
// Swagger makes every path parameter required whatever a file says
// (Asterisk's endpoints.json leaves tech and resource unmarked).
func TestServedOperationsAgreeWithAsterisk(t *testing.T) {
	declared, _, _ := loadAsteriskDecls(t)
	for _, op := range apiOps {
		want, found := declared[op.key()]
		if !found {
			t.Errorf("%s is not an operation Asterisk declares", op.key())
			continue
		}
		got := op.doc()
		eq(t, op.key()+" operation", op.resource()+"."+got.Nickname+" -> "+got.ResponseClass+" "+got.Upgrade,
			want.resource+"."+want.Nickname+" -> "+want.ResponseClass+" "+want.Upgrade)
		byName := map[string]asteriskParam{}
		for _, p := range want.Parameters {
			p.Required = p.Required || p.ParamType == "path"
			byName[p.Name] = p
		}
		for _, p := range got.Parameters {
			a, found := byName[p.Name]
			if !found {
				t.Errorf("%s: parameter %s is not Asterisk's", op.key(), p.Name)
				continue
			}
			eq(t, op.key()+" "+p.Name, asteriskParam(p), a)
			delete(byName, p.Name)
		}
		for _, a := range byName {
			if a.Required {
				t.Errorf("%s: required parameter %s not declared", op.key(), a.Name)
			}
		}
	}
}

// Every operation Asterisk declares is served or answers 501, so a new
// declaration (or a route dropped from routeTable) shows up here; and
// the resources listed are Asterisk's.
func TestDeclaredOperationsServedOrNotModelled(t *testing.T) {
	declared, resources, _ := loadAsteriskDecls(t)
	served := map[string]bool{}
	for _, r := range Routes() {
		served[r] = true
	}
	for key := range declared {
		if !served[key] && !slices.Contains(notModelledOps, key) {
			t.Errorf("%s is declared by Asterisk but neither served nor in notModelledOps", key)
		}
	}
	for _, key := range notModelledOps {
		if _, found := declared[key]; !found {
			t.Errorf("notModelledOps lists %s, which Asterisk does not declare", key)
		}
	}
	var ours []string
	for _, r := range apiResources {
		ours = append(ours, r.name)
	}
	slices.Sort(ours)
	slices.Sort(resources)
	eq(t, "resources", strings.Join(ours, ","), strings.Join(resources, ","))
}

// objectTypes are the types of ARI objects: what the simulator's
// operations answer, List[...] unwrapped, and not primitives.
func objectTypes() map[string]bool {
	out := map[string]bool{}
	for _, op := range apiOps {
		typ := strings.TrimSuffix(strings.TrimPrefix(op.returns, "List["), "]")
		if typ != "void" && typ != "binary" {
			out[typ] = true
		}
	}
	return out
}

// Each event model is an Asterisk event; each field it lists has
// Asterisk's type; and it lists every object field Asterisk requires of
// the event, so a client finds an instance wherever Asterisk sends one.
func TestEventModelsAgreeWithAsterisk(t *testing.T) {
	_, _, models := loadAsteriskDecls(t)
	events := models["Event"].SubTypes
	served := eventSwaggerModels()
	for _, e := range eventModels {
		want, found := models[e.event]
		if !found || !slices.Contains(events, e.event) {
			t.Errorf("%s is not an event Asterisk declares", e.event)
			continue
		}
		for name, p := range served[e.event].Properties {
			eq(t, e.event+"."+name, p.Type, want.Properties[name].Type)
		}
		for name, p := range want.Properties {
			if p.Required && objectTypes()[p.Type] {
				if _, has := served[e.event].Properties[name]; !has {
					t.Errorf("%s: object field %s (%s) not declared", e.event, name, p.Type)
				}
			}
		}
	}
}

// Every event type the simulator can send has a model: the simulator's
// sources are read for string literals that name an Asterisk event (as
// in s.emit(apps, "Dial", ...) or typ := "RecordingFailed"). ari-client
// cannot dispatch an event it has no model for.
func TestEveryEventTheSimulatorSendsHasAModel(t *testing.T) {
	_, _, models := loadAsteriskDecls(t)
	events := models["Event"].SubTypes
	declared := map[string]bool{}
	for _, e := range eventModels {
		declared[e.event] = true
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	found := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "apidecl.go" {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err == nil && slices.Contains(events, v) {
				found++
				if !declared[v] {
					t.Errorf("%s: the simulator sends %s, which has no event model", fset.Position(lit.Pos()), v)
				}
			}
			return true
		})
	}
	if found == 0 {
		t.Fatal("no event name found in the simulator's sources")
	}
}

// checkEventObjects checks a received event against the served event
// models: every field holding an ARI object is declared with its type,
// the type Asterisk gives it.
func checkEventObjects(t *testing.T, models map[string]specModel, typ string, event map[string]any) {
	t.Helper()
	served := eventSwaggerModels()[typ]
	for name, v := range event {
		want := models[typ].Properties[name].Type
		if _, isObject := v.(map[string]any); !isObject || !objectTypes()[want] {
			continue
		}
		eq(t, typ+"."+name+" in the events models", served.Properties[name].Type, want)
	}
}
