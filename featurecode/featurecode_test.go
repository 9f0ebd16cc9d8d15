package featurecode_test

import (
	"reflect"
	"testing"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/featurecode"
	"github.com/switchboard/switchboard/routing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want featurecode.Code
		ok   bool
	}{
		{[]string{"agentcode", "login", "2001*1234"}, featurecode.Code{Action: "login", Arg: "2001*1234"}, true},
		{[]string{"agentcode", "logout"}, featurecode.Code{Action: "logout"}, true},
		{[]string{"agentcode"}, featurecode.Code{}, false},
		{[]string{"monitor", "2001"}, featurecode.Code{}, false},
		{nil, featurecode.Code{}, false},
	} {
		got, ok := featurecode.Parse(tc.args)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Parse(%q) = %+v, %v; want %+v, %v", tc.args, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLogin(t *testing.T) {
	for _, tc := range []struct {
		arg  string
		want featurecode.KeypadLogin
		ok   bool
	}{
		{"2001*1234", featurecode.KeypadLogin{Agent: "2001", PIN: "1234"}, true},
		{"2001*", featurecode.KeypadLogin{Agent: "2001"}, false},
		{"2001", featurecode.KeypadLogin{Agent: "2001"}, false},
		{"*1234", featurecode.KeypadLogin{}, false},
	} {
		got, ok := featurecode.Code{Action: "login", Arg: tc.arg}.Login()
		if got != tc.want || ok != tc.ok {
			t.Errorf("Login(%q) = %+v, %v; want %+v, %v", tc.arg, got, ok, tc.want, tc.ok)
		}
	}
	if _, ok := (featurecode.Code{Action: "logout"}).Login(); ok {
		t.Error("a logout code read as a login")
	}
}

func TestMsg(t *testing.T) {
	const a = sb.AgentID("2001")
	for _, tc := range []struct {
		code    featurecode.Code
		msg     routing.Msg
		confirm string
		ok      bool
	}{
		{featurecode.Code{Action: "logout"}, routing.AgentLogout{Agent: a, Reason: "keypad"}, featurecode.LoggedOff, true},
		{featurecode.Code{Action: "pause", Arg: "2"}, routing.AgentPause{Agent: a, Reason: "lunch"}, featurecode.Done, true},
		{featurecode.Code{Action: "pause", Arg: "9"}, routing.AgentPause{Agent: a, Reason: "code 9"}, featurecode.Done, true},
		{featurecode.Code{Action: "ready"}, routing.AgentReady{Agent: a}, featurecode.Done, true},
		{featurecode.Code{Action: "wrapup"}, routing.AgentEndWrapUp{Agent: a}, featurecode.Done, true},
		{featurecode.Code{Action: "dance"}, nil, featurecode.Refused, false},
		{featurecode.Code{Action: "login", Arg: "2001*1"}, nil, featurecode.Refused, false},
	} {
		m, confirm, ok := tc.code.Msg(a)
		if !reflect.DeepEqual(m, tc.msg) || confirm != tc.confirm || ok != tc.ok {
			t.Errorf("%+v.Msg = %#v, %s, %v; want %#v, %s, %v", tc.code, m, confirm, ok, tc.msg, tc.confirm, tc.ok)
		}
	}
}

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{"PJSIP/1001-0000002a": "PJSIP/1001", "PJSIP/1001": "PJSIP/1001", "Local/2001@agents-00000001;1": "Local/2001@agents"} {
		if got := featurecode.Endpoint(in); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
