package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchboard/switchboard/sim/internal/arispec"
)

// getDoc fetches an api-docs document with the test credentials.
func getDoc(t *testing.T, s *Server, name string, into any) {
	t.Helper()
	code, b := call(t, s, "GET", "/api-docs/"+name, nil, nil)
	if code != http.StatusOK {
		t.Fatalf("GET /ari/api-docs/%s: %d %s", name, code, b)
	}
	if err := json.Unmarshal(b, into); err != nil {
		t.Fatalf("decode %s: %v", name, err)
	}
}

// servedDocs loads resources.json and every declaration it lists, as a
// Swagger client does, and returns the declarations by resource name.
func servedDocs(t *testing.T, s *Server) (arispec.ResourceListingDoc, map[string]arispec.DeclarationDoc) {
	t.Helper()
	var listing arispec.ResourceListingDoc
	getDoc(t, s, "resources.json", &listing)
	decls := map[string]arispec.DeclarationDoc{}
	for _, a := range listing.APIs {
		name := strings.TrimSuffix(strings.TrimPrefix(a.Path, "/api-docs/"), ".{format}")
		var d arispec.DeclarationDoc
		getDoc(t, s, strings.ReplaceAll(strings.TrimPrefix(a.Path, "/api-docs/"), "{format}", "json"), &d)
		decls[name] = d
	}
	return listing, decls
}

func TestAPIDocsListServedRoutesWithAsteriskNicknames(t *testing.T) {
	s := startSim(t, Options{})
	listing, decls := servedDocs(t, s)
	base := "http://" + s.Addr() + "/ari"
	eq(t, "listing basePath", listing.BasePath, base)
	eq(t, "listing swaggerVersion", listing.SwaggerVersion, ariDeclarations.SwaggerVersion)
	eq(t, "resources", len(decls), len(ariDeclarations.Resources))

	// "METHOD path" -> "resource.nickname" as listed.
	listed := map[string]string{}
	for name, d := range decls {
		eq(t, name+" basePath", d.BasePath, base)
		eq(t, name+" resourcePath", d.ResourcePath, "/api-docs/"+name+".{format}")
		if len(d.Models) == 0 {
			t.Errorf("%s lists no models", name)
		}
		for _, a := range d.APIs {
			for _, op := range a.Operations {
				key := op.HTTPMethod + " " + a.Path
				if prev, dup := listed[key]; dup {
					t.Errorf("%s listed twice (%s, %s.%s)", key, prev, name, op.Nickname)
				}
				listed[key] = name + "." + op.Nickname
				for _, p := range op.Parameters {
					if p.Name == "" || p.ParamType == "" || p.DataType == "" {
						t.Errorf("%s: parameter %+v lacks name, paramType or dataType", key, p)
					}
				}
			}
		}
	}
	for _, r := range Routes() {
		if _, ok := listed[r]; !ok {
			t.Errorf("served route %s is not in the api-docs", r)
		}
	}
	if len(listed) != len(Routes()) {
		t.Errorf("api-docs list %d operations, the simulator serves %d", len(listed), len(Routes()))
	}

	// The nicknames ari-client and ari-py build their method names from,
	// as Asterisk declares them.
	for _, tc := range []struct{ route, want string }{
		{"POST /channels", "channels.originate"},
		{"POST /channels/{channelId}", "channels.originateWithId"},
		{"POST /channels/create", "channels.create"},
		{"DELETE /channels/{channelId}", "channels.hangup"},
		{"POST /channels/{channelId}/answer", "channels.answer"},
		{"POST /channels/{channelId}/play", "channels.play"},
		{"POST /channels/{channelId}/play/{playbackId}", "channels.playWithId"},
		{"POST /channels/{channelId}/snoop", "channels.snoopChannel"},
		{"POST /channels/{channelId}/dial", "channels.dial"},
		{"POST /bridges", "bridges.create"},
		{"POST /bridges/{bridgeId}", "bridges.createWithId"},
		{"POST /bridges/{bridgeId}/addChannel", "bridges.addChannel"},
		{"POST /bridges/{bridgeId}/record", "bridges.record"},
		{"DELETE /bridges/{bridgeId}", "bridges.destroy"},
		{"POST /recordings/live/{recordingName}/stop", "recordings.stop"},
		{"GET /recordings/stored/{recordingName}/file", "recordings.getStoredFile"},
		{"DELETE /playbacks/{playbackId}", "playbacks.stop"},
		{"GET /events", "events.eventWebsocket"},
		{"POST /applications/{applicationName}/subscription", "applications.subscribe"},
		{"GET /asterisk/info", "asterisk.getInfo"},
		{"GET /deviceStates", "deviceStates.list"},
	} {
		eq(t, tc.route, listed[tc.route], tc.want)
	}

	// Each listed nickname is the one the real declarations give.
	nick := specNicknames(t)
	for route, got := range listed {
		if want, ok := nick[route]; !ok || got != want {
			t.Errorf("%s: listed as %q, declared as %q", route, got, want)
		}
	}

	// ari-client looks up the model of every event type it receives.
	for _, m := range []string{"StasisStart", "StasisEnd", "ChannelDestroyed", "PlaybackFinished", "RecordingFinished", "Dial"} {
		if _, ok := decls["events"].Models[m]; !ok {
			t.Errorf("events.json lacks model %s", m)
		}
	}
}

// specNicknames reads "METHOD path" -> "resource.nickname" from the ARI
// declarations in ../shared/ari-spec, independently of the generated table.
func specNicknames(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(specDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("ARI spec not found in %s", specDir)
	}
	out := map[string]string{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			APIs []struct {
				Path       string `json:"path"`
				Operations []struct {
					HTTPMethod string `json:"httpMethod"`
					Nickname   string `json:"nickname"`
				} `json:"operations"`
			} `json:"apis"`
		}
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		for _, a := range d.APIs {
			for _, op := range a.Operations {
				out[op.HTTPMethod+" "+a.Path] = name + "." + op.Nickname
			}
		}
	}
	return out
}

func TestAPIDocsBasePathFollowsHost(t *testing.T) {
	s := startSim(t, Options{})
	req, _ := http.NewRequest("GET", s.URL()+"/api-docs/channels.json", nil)
	req.Host = "pbx.example.com:8088"
	req.SetBasicAuth(testUser, testPass)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var d arispec.DeclarationDoc
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	eq(t, "basePath", d.BasePath, "http://pbx.example.com:8088/ari")
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
		{"externalMedia is not originate", "POST", "/ari/channels/externalMedia?app=a&external_host=127.0.0.1:9&format=ulaw", true, 501, "POST /channels/externalMedia (channels.externalMedia) is " + notModelled},
		{"user event", "POST", "/ari/events/user/ping?application=a", true, 501, notModelled},
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

// Every declared operation the simulator does not serve answers 501 with
// its own name; none falls through to 404 or to a served operation.
func TestEveryUnservedDeclarationAnswers501(t *testing.T) {
	s := startSim(t, Options{})
	n := 0
	for _, res := range ariDeclarations.Resources {
		for _, api := range res.APIs {
			for _, op := range api.Operations {
				if served()[op.Key(api)] {
					continue
				}
				n++
				path := api.Path
				for _, p := range op.Parameters {
					if p.ParamType == "path" {
						path = strings.ReplaceAll(path, "{"+p.Name+"}", "x1")
					}
				}
				code, b := call(t, s, op.Method, path, nil, nil)
				want := op.Key(api) + " (" + res.Name + "." + op.Nickname + ") is not modelled by the simulator"
				if code != 501 || !bytes.Contains(b, []byte(want)) {
					t.Errorf("%s %s: %d %s, want 501 %q", op.Method, path, code, b, want)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no unserved declaration checked")
	}
}

// The committed table is what `go generate` makes of the declarations.
func TestAPIDeclarationsTableIsGenerated(t *testing.T) {
	if _, err := os.Stat(filepath.Join(specDir, "resources.json")); err != nil {
		t.Skipf("ARI spec not found in %s", specDir)
	}
	l, err := arispec.Load(specDir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := arispec.Source("sim", "ariDeclarations", arispec.Generator, l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("ariapi_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Error("ariapi_gen.go is stale: run `go generate ./sim`")
	}
}
