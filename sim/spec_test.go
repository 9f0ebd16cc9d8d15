package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// specDir is the ARI declarations folder, relative to this package.
const specDir = "../../shared/ari-spec"

type specProp struct {
	Type     string `json:"type"`
	Required bool   `json:"required"`
}

type specModel struct {
	Properties map[string]specProp `json:"properties"`
}

type specFile struct {
	Apis []struct {
		Path       string `json:"path"`
		Operations []struct {
			HTTPMethod string `json:"httpMethod"`
		} `json:"operations"`
	} `json:"apis"`
	Models map[string]specModel `json:"models"`
}

func loadSpec(t *testing.T) (routes map[string]bool, models map[string]specModel) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(specDir, "*.json"))
	if len(files) == 0 {
		t.Skipf("ARI spec not found in %s", specDir)
	}
	routes, models = map[string]bool{}, map[string]specModel{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var sf specFile
		if err := json.Unmarshal(b, &sf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, a := range sf.Apis {
			for _, op := range a.Operations {
				routes[op.HTTPMethod+" "+a.Path] = true
			}
		}
		for n, m := range sf.Models {
			models[n] = m
		}
	}
	return routes, models
}

func TestSpecRoutes(t *testing.T) {
	routes, _ := loadSpec(t)
	for _, r := range Routes() {
		if !routes[r] {
			t.Errorf("route %s is not declared in the ARI spec", r)
		}
	}
}

// checkModel checks that v has every required property of model and no
// undeclared one, recursing into properties whose type is a model.
func checkModel(t *testing.T, models map[string]specModel, model, where string, v any, extra ...string) {
	t.Helper()
	m, ok := models[model]
	if !ok {
		t.Fatalf("%s: no model %s", where, model)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: %s is not an object: %v", where, model, v)
		return
	}
	props := map[string]specProp{}
	for k, p := range m.Properties {
		props[k] = p
	}
	for _, e := range extra {
		for k, p := range models[e].Properties {
			props[k] = p
		}
	}
	for k, p := range props {
		if _, has := obj[k]; p.Required && !has {
			t.Errorf("%s: %s lacks required %q", where, model, k)
		}
	}
	for k, val := range obj {
		p, declared := props[k]
		if !declared {
			t.Errorf("%s: %s has undeclared field %q", where, model, k)
			continue
		}
		typ := p.Type
		if strings.HasPrefix(typ, "List[") {
			inner := strings.TrimSuffix(strings.TrimPrefix(typ, "List["), "]")
			if _, isModel := models[inner]; isModel {
				for _, x := range val.([]any) {
					checkModel(t, models, inner, where+"."+k, x)
				}
			}
			continue
		}
		if _, isModel := models[typ]; isModel {
			checkModel(t, models, typ, where+"."+k, val)
		}
		if typ == "Date" {
			if _, err := time.Parse(ariDateFormat, val.(string)); err != nil {
				t.Errorf("%s.%s: bad date %v", where, k, val)
			}
		}
	}
}

func TestSpecEventsAndBodies(t *testing.T) {
	_, models := loadSpec(t)
	s := startSim(t, Options{Speed: 1000})
	s.AddEndpoint("PJSIP", "1001", Party{Rings: 1})
	s.AddEndpoint("PJSIP", "1002", Party{Busy: true})
	h := http.Header{}
	h.Set("Authorization", "Basic "+basicAuth(testUser, testPass))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, s.WebsocketURL()+"?app=spec&subscribeAll=true", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	waitUntil(t, func() bool { return s.registeredApp("spec") })

	events := map[string][]map[string]any{}
	next := func(typ string) map[string]any {
		t.Helper()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			tp, _ := m["type"].(string)
			events[tp] = append(events[tp], m)
			if tp == typ {
				return m
			}
		}
	}
	body := func(method, path string, q url.Values, want int) any {
		t.Helper()
		code, b := call(t, s, method, path, q, nil)
		if code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, b)
		}
		var v any
		if len(b) > 0 {
			json.Unmarshal(b, &v)
		}
		return v
	}

	call(t, s, "POST", "/applications/spec/subscription", url.Values{"eventSource": {"endpoint:PJSIP/1001"}}, nil)
	in, _ := s.Call(Inbound{App: "spec", Args: []string{"a"}, From: "1", Party: Party{Digits: "5"}})
	next("ChannelDtmfReceived")
	body("POST", "/channels/"+in+"/answer", nil, 204)
	next("ChannelStateChange")
	body("POST", "/channels/"+in+"/variable", url.Values{"variable": {"V"}, "value": {"1"}}, 204)
	next("ChannelVarset")
	body("POST", "/channels/"+in+"/hold", nil, 204)
	next("ChannelHold")
	body("DELETE", "/channels/"+in+"/hold", nil, 204)
	next("ChannelUnhold")
	pb := body("POST", "/channels/"+in+"/play/p1", url.Values{"media": {"sound:beep,digits:1"}}, 201)
	checkModel(t, models, "Playback", "play response", pb)
	next("PlaybackContinuing")
	next("PlaybackFinished")
	out := body("POST", "/channels", url.Values{"endpoint": {"PJSIP/1001"}, "app": {"spec"}}, 200)
	checkModel(t, models, "Channel", "originate response", out)
	outID := out.(map[string]any)["id"].(string)
	next("StasisStart")
	body("POST", "/channels", url.Values{"endpoint": {"PJSIP/1002"}, "app": {"spec"}}, 200)
	next("ChannelDestroyed")
	br := body("POST", "/bridges/b1", nil, 200)
	checkModel(t, models, "Bridge", "bridge response", br)
	body("POST", "/bridges/b1/addChannel", url.Values{"channel": {in + "," + outID}}, 204)
	next("ChannelEnteredBridge")
	lr := body("POST", "/bridges/b1/record", url.Values{"name": {"r1"}, "format": {"wav"}, "maxSilenceSeconds": {"3"}}, 201)
	checkModel(t, models, "LiveRecording", "record response", lr)
	next("RecordingStarted")
	body("POST", "/recordings/live/r1/stop", nil, 204)
	next("RecordingFinished")
	sn := body("POST", "/channels/"+in+"/snoop", url.Values{"spy": {"in"}, "app": {"spec"}}, 200)
	checkModel(t, models, "Channel", "snoop response", sn)
	s.SetEndpointState("PJSIP", "1001", "offline")
	next("EndpointStateChange")
	s.Hangup(in, 16)
	next("ChannelLeftBridge")
	next("StasisEnd")
	body("DELETE", "/bridges/b1", nil, 204)
	next("BridgeDestroyed")

	for typ, list := range events {
		if _, ok := models[typ]; !ok {
			t.Errorf("event type %s not declared", typ)
			continue
		}
		for i, e := range list {
			checkModel(t, models, typ, typ+"#"+itoa(i), e, "Event", "Message")
			checkEventObjects(t, models, typ, e)
		}
	}
	checkModel(t, models, "AsteriskInfo", "info", body("GET", "/asterisk/info", nil, 200))
	checkModel(t, models, "Application", "app", body("GET", "/applications/spec", nil, 200))
	checkModel(t, models, "Endpoint", "endpoint", body("GET", "/endpoints/PJSIP/1001", nil, 200))
	checkModel(t, models, "StoredRecording", "stored", body("GET", "/recordings/stored/r1", nil, 200))
	checkModel(t, models, "Sound", "sound", body("GET", "/sounds/beep", nil, 200))
	checkModel(t, models, "Variable", "variable", body("GET", "/asterisk/variable", url.Values{"variable": {"X"}}, 200))
	for _, c := range body("GET", "/channels", nil, 200).([]any) {
		checkModel(t, models, "Channel", "channel list", c)
	}
}
