package arispec

import (
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSpec writes a two-resource declaration set in Asterisk's form,
// with the quirks of the real files (a status code written as a string,
// a default value, allowable values).
func writeSpec(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"resources.json": `{"apiVersion": "12.0.0", "swaggerVersion": "1.1", "basePath": "http://localhost:8088/ari",
			"apis": [{"path": "/api-docs/things.{format}", "description": "Thing resources"},
			         {"path": "/api-docs/events.{format}", "description": "WebSocket resource"}]}`,
		"things.json": `{"_copyright": "x", "apiVersion": "2.0.0", "swaggerVersion": "1.1", "basePath": "http://localhost:8088/ari",
			"resourcePath": "/api-docs/things.{format}",
			"apis": [
			 {"path": "/things", "description": "All things", "operations": [
			  {"httpMethod": "GET", "summary": "List.", "nickname": "list", "responseClass": "List[Thing]"},
			  {"httpMethod": "POST", "summary": "Make.", "nickname": "create", "responseClass": "Thing",
			   "notes": "long prose",
			   "parameters": [{"name": "size", "description": "d", "paramType": "query", "required": false,
			     "allowMultiple": false, "dataType": "int", "defaultValue": 3,
			     "allowableValues": {"valueType": "RANGE", "min": 1}}],
			   "errorResponses": [{"code": "409", "reason": "Exists"}, {"code": 400, "reason": "Bad"}]}]},
			 {"path": "/things/{thingId}/poke", "operations": [
			  {"httpMethod": "post", "summary": "Poke.", "nickname": "poke", "responseClass": "void",
			   "parameters": [{"name": "thingId", "paramType": "path", "required": true, "allowMultiple": false, "dataType": "string"}]}]}],
			"models": {"Thing": {"id": "Thing", "description": "A thing.", "properties": {
			  "state": {"type": "string", "required": true, "allowableValues": {"valueType": "LIST", "values": ["a", "b"]}},
			  "id": {"type": "string", "required": true, "description": "Id."}}}}}`,
		"events.json": `{"apiVersion": "2.0.0", "swaggerVersion": "1.2", "resourcePath": "/api-docs/events.{format}",
			"apis": [{"path": "/events", "operations": [{"httpMethod": "GET", "upgrade": "websocket",
			  "websocketProtocol": "ari", "nickname": "eventWebsocket", "responseClass": "Message"}]}],
			"models": {"Message": {"id": "Message", "discriminator": "type", "subTypes": ["Poked"],
			  "properties": {"type": {"type": "string", "required": true}}},
			  "Poked": {"id": "Poked", "properties": {"thing": {"type": "Thing", "required": true}}}}}`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	l, err := Load(writeSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := l.APIVersion+" "+l.SwaggerVersion, "12.0.0 1.1"; got != want {
		t.Errorf("listing versions: got %q, want %q", got, want)
	}
	things, ok := l.Resource("things")
	if !ok || len(l.Resources) != 2 || l.Resources[0].Name != "things" {
		t.Fatalf("resources: %+v", l.Resources)
	}
	if things.Description != "Thing resources" || things.ResourcePath != "/api-docs/things.{format}" {
		t.Errorf("things: %+v", things)
	}
	create := things.APIs[0].Operations[1]
	for _, c := range []struct{ what, got, want string }{
		{"key", create.Key(things.APIs[0]), "POST /things"},
		{"poke method upper-cased", things.APIs[1].Operations[0].Method, "POST"},
		{"default", create.Parameters[0].DefaultValue, "3"},
		{"allowable", create.Parameters[0].AllowableValues, `{"valueType":"RANGE","min":1}`},
		{"first property (sorted)", things.Models[0].Properties[0].Name, "id"},
		{"property values", things.Models[0].Properties[1].AllowableValues, `{"valueType":"LIST","values":["a","b"]}`},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
	if got := create.ErrorResponses; len(got) != 2 || got[0].Code != 409 || got[1].Code != 400 {
		t.Errorf("error responses: %+v", got)
	}
}

func TestLoadRejectsBadSpec(t *testing.T) {
	for name, body := range map[string]string{
		"missing declaration": `{"apis": [{"path": "/api-docs/nope.{format}"}]}`,
		"odd api path":        `{"apis": [{"path": "/other/things.json"}]}`,
		"not JSON":            `{"apis": [`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "resources.json"), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(dir); err == nil {
				t.Error("Load succeeded")
			}
		})
	}
}

func TestDeclarationKeepsChosenOperationsAndEveryModel(t *testing.T) {
	l, err := Load(writeSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	things, _ := l.Resource("things")
	doc := things.Declaration("http://h:1/ari", func(api API, op Operation) bool { return op.Nickname != "poke" })
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got["basePath"] != "http://h:1/ari" || got["swaggerVersion"] != "1.1" {
		t.Errorf("header: %s", b)
	}
	apis := got["apis"].([]any)
	if len(apis) != 1 {
		t.Fatalf("apis: want /things only (poke left out with its path), got %s", b)
	}
	ops := apis[0].(map[string]any)["operations"].([]any)
	create := ops[1].(map[string]any)
	param := create["parameters"].([]any)[0].(map[string]any)
	if create["nickname"] != "create" || create["httpMethod"] != "POST" || param["defaultValue"] != 3.0 ||
		param["required"] != false || param["allowMultiple"] != false || param["dataType"] != "int" {
		t.Errorf("create: %v", create)
	}
	if _, ok := got["models"].(map[string]any)["Thing"]; !ok {
		t.Errorf("models: %s", b)
	}
	if strings.Contains(string(b), "long prose") {
		t.Errorf("notes served: %s", b)
	}

	none := things.Declaration("", func(API, Operation) bool { return false })
	if none.BasePath != "" || len(none.APIs) != 0 || len(none.Models) != 1 {
		t.Errorf("nothing kept: %+v", none)
	}
	listing := l.ResourceListing("http://h:1/ari")
	if len(listing.APIs) != 2 || listing.APIs[1].Path != "/api-docs/events.{format}" || listing.BasePath != "http://h:1/ari" {
		t.Errorf("listing: %+v", listing)
	}
}

func TestSourceIsGoThatNamesEveryField(t *testing.T) {
	l, err := Load(writeSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	src, err := Source("sim", "decls", Generator, l)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.ParseFile(token.NewFileSet(), "gen.go", src, 0); err != nil {
		t.Fatalf("generated source does not parse: %v\n%s", err, src)
	}
	for _, want := range []string{
		"// Code generated by " + Generator + "; DO NOT EDIT.",
		"var decls = arispec.Listing{",
		`{Name: "size", ParamType: "query", DataType: "int", DefaultValue: "3", AllowableValues: "{\"valueType\":\"RANGE\",\"min\":1}"},`,
		`{Code: 409, Reason: "Exists"},`,
		`SubTypes:      []string{"Poked"},`,
		`Upgrade:           "websocket",`,
	} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
}
