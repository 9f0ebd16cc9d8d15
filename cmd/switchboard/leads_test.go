package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runLeads runs `switchboard leads ARGS...` in-process and returns stdout,
// stderr and the exit code runCtx would give.
func runLeads(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return runCommand(t, newLeadsCmd(), args...)
}

// leadsDB returns a fresh database path with a running campaign "spring".
func leadsDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sb.db")
	out, errOut, code := runLeads(t, "campaign", "create", "spring", "--db", db, "--caller-id", "+15555550100", "--start", "--days", "daily")
	if code != 0 || out != "campaign spring created (progressive, running)\n" {
		t.Fatalf("campaign create: %d %q %q", code, out, errOut)
	}
	return db
}

func writeLeadsFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const leadsCSV = `name,Phone,plan
Ada,(212) 555-0123,gold
Bob,12345,silver
Cy,+44 20 7123 4567
Ada again,212.555.0123,platinum
Di,650-253-0000,
`

func TestLeadsImport(t *testing.T) {
	db := leadsDB(t)
	file := writeLeadsFile(t, "leads.csv", leadsCSV)
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	out, errOut, code := runLeads(t, "import", "--campaign", "spring", file, "--db", db, "--rejects", rejects)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	want := `campaign spring: 5 rows read, 2 imported, 1 merged, 2 rejected
rejected:
  line 3: invalid number "12345": not a valid number in country code +1
  line 4: wrong column count: 2 fields, the header has 3
all 2 rejected rows are in ` + rejects + "\n"
	if out != want {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, want)
	}
	if errOut != "import: 5 rows read (100%)\n" {
		t.Errorf("stderr (progress) = %q", errOut)
	}
	got, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	wantRejects := `line,reason,name,Phone,plan
3,"invalid number ""12345"": not a valid number in country code +1",Bob,12345,silver
4,"wrong column count: 2 fields, the header has 3",Cy,+44 20 7123 4567
`
	if string(got) != wantRejects {
		t.Errorf("rejects file:\n%s\nwant:\n%s", got, wantRejects)
	}

	// The same file again: every good row merges into its lead.
	out, _, code = runLeads(t, "import", "--campaign", "spring", file, "--db", db, "--show", "0")
	if code != 0 || !strings.HasPrefix(out, "campaign spring: 5 rows read, 0 imported, 3 merged, 2 rejected\nrejected:\n  ... and 2 more (--rejects FILE writes them all)\n") {
		t.Errorf("second import: %d\n%s", code, out)
	}

	out, _, _ = runLeads(t, "campaign", "show", "spring", "--db", db)
	if !strings.Contains(out, `"new": 2`) || !strings.Contains(out, `"name": "spring"`) {
		t.Errorf("campaign show:\n%s", out)
	}
}

func TestLeadsImportRefused(t *testing.T) {
	db := leadsDB(t)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no phone column", []string{"--campaign", "spring", writeLeadsFile(t, "a.csv", "name,mobile\nAda,2125550123\n")}, "has no phone number column"},
		{"named column", []string{"--campaign", "spring", "--number-column", "Mobile", writeLeadsFile(t, "b.csv", "name,mobile\nAda,2125550123\n")}, ""},
		{"unknown campaign", []string{"--campaign", "autumn", writeLeadsFile(t, "c.csv", "phone\n")}, "campaign autumn does not exist"},
		{"no campaign", []string{writeLeadsFile(t, "d.csv", "phone\n")}, "--campaign is required"},
		{"missing file", []string{"--campaign", "spring", "/nonexistent/leads.csv"}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := runLeads(t, append([]string{"import", "--db", db}, tt.args...)...)
			if tt.want == "" {
				if code != 0 {
					t.Errorf("exit %d: %s", code, errOut)
				}
				return
			}
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, tt.want)
			}
		})
	}
}

func TestLeadsWhy(t *testing.T) {
	db := leadsDB(t)
	file := writeLeadsFile(t, "leads.csv", "phone,timezone\n2125550123,\n6502530000,America/Los_Angeles\n")
	if _, errOut, code := runLeads(t, "import", "--campaign", "spring", file, "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"(212) 555-0123", "--at", "2026-03-10T10:00:00-04:00"},
			"+12125550123 in campaign spring (running): lead new, 0 of 5 attempts, zone America/New_York\n" +
				"dialable now: attempt 1 of 5, local time Tue 10:00 in America/New_York within 08:00-21:00\n"},
		{[]string{"+16502530000", "--at", "2026-03-10T10:00:00-04:00"},
			"+16502530000 in campaign spring (running): lead new, 0 of 5 attempts, zone America/Los_Angeles\n" +
				"not dialed: outside the calling window 08:00-21:00 in America/Los_Angeles (local time Tue 07:00); the window opens at 2026-03-10 08:00 PDT\n"},
	}
	for _, tt := range tests {
		out, errOut, code := runLeads(t, append([]string{"why", "--campaign", "spring", "--db", db}, tt.args...)...)
		if code != 0 || out != tt.want {
			t.Errorf("why %v: exit %d %s\n got %q\nwant %q", tt.args, code, errOut, out, tt.want)
		}
	}

	// Put on the DNC list after the import: why says so.
	if out, _, code := runLeads(t, "dnc", "add", "212-555-0123", "--db", db); code != 0 || out != "+12125550123 added to the do-not-call list\n" {
		t.Errorf("dnc add: %d %q", code, out)
	}
	out, _, _ := runLeads(t, "why", "--campaign", "spring", "--db", db, "+12125550123", "--at", "2026-03-10T10:00:00-04:00")
	if !strings.Contains(out, "do-not-call since ") || !strings.Contains(out, "(source internal)") ||
		!strings.Contains(out, "not dialed: +12125550123 is on the do-not-call list") {
		t.Errorf("why after dnc add:\n%s", out)
	}
	if out, _, _ := runLeads(t, "campaign", "pause", "spring", "--db", db); out != "campaign spring is paused\n" {
		t.Errorf("pause: %q", out)
	}
	out, _, _ = runLeads(t, "why", "--campaign", "spring", "--db", db, "+16502530000", "--at", "2026-03-10T13:00:00-04:00")
	if !strings.Contains(out, "not dialed: campaign spring is paused\n") {
		t.Errorf("why when paused:\n%s", out)
	}
	if _, errOut, code := runLeads(t, "why", "--campaign", "spring", "--db", db, "+13125550100"); code != 2 || !strings.Contains(errOut, "campaign spring has no lead +13125550100") {
		t.Errorf("unknown lead: %d %q", code, errOut)
	}
	if _, errOut, code := runLeads(t, "why", "--campaign", "spring", "--db", db, "call me"); code != 2 || !strings.Contains(errOut, "invalid number") {
		t.Errorf("bad number: %d %q", code, errOut)
	}
}

func TestLeadsDNCImport(t *testing.T) {
	db := leadsDB(t)
	file := writeLeadsFile(t, "national.txt", "2125550123\n+44 20 7123 4567\nnot a number\n212 555 0123\n")
	out, errOut, code := runLeads(t, "dnc", "import", file, "--db", db)
	want := `line 3: invalid number "not a number": the phone number supplied is not a number
do-not-call list national.txt: 4 numbers read, 2 added, 1 already listed, 1 rejected
`
	if code != 0 || out != want {
		t.Errorf("dnc import: %d %s\n got %q\nwant %q", code, errOut, out, want)
	}
	if out, _, _ := runLeads(t, "dnc", "add", "+442071234567", "--db", db); out != "+442071234567 was already on the do-not-call list\n" {
		t.Errorf("dnc add: %q", out)
	}
}

func TestLeadsCampaignCreateInvalid(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sb.db")
	_, errOut, code := runLeads(t, "campaign", "create", "blitz", "--db", db, "--mode", "power", "--ratio", "5", "--ring-time", "10s")
	for _, want := range []string{"ratio: 5", "caller_id: is required", "abandon_message: is required in power mode", "ring_time: 10s"} {
		if code != 2 || !strings.Contains(errOut, want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, errOut, want)
		}
	}
	_, errOut, code = runLeads(t, "campaign", "create", "blitz", "--db", db, "--window", "8-21", "--retry", "busy=soon")
	if code != 2 || !strings.Contains(errOut, `calling window "8-21"`) || !strings.Contains(errOut, "--retry busy=soon") {
		t.Errorf("bad flags: %d %q", code, errOut)
	}
	out, errOut, code := runLeads(t, "campaign", "create", "blitz", "--db", db, "--mode", "power", "--ratio", "2",
		"--caller-id", "+15555550100", "--abandon-message", "sound:blitz", "--retry", "busy=5m")
	if code != 0 || out != "campaign blitz created (power, paused)\n" {
		t.Errorf("create: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := runLeads(t, "campaign", "create", "blitz", "--db", db, "--caller-id", "1"); code != 2 || !strings.Contains(errOut, "campaign blitz already exists") {
		t.Errorf("duplicate: %d %q", code, errOut)
	}
	out, _, _ = runLeads(t, "campaign", "list", "--db", db)
	if out != "blitz\tpower\tpaused\n" {
		t.Errorf("list = %q", out)
	}
	if _, errOut, code := runLeads(t, "campaign", "create", "vm", "--db", db, "--caller-id", "+15555550100",
		"--machine-message", "sound:vm", "--amd=false"); code != 2 || !strings.Contains(errOut, "machine_message: is set but amd is off") {
		t.Errorf("machine message without amd: %d %q", code, errOut)
	}
	if _, errOut, code := runLeads(t, "campaign", "create", "vm", "--db", db, "--caller-id", "+15555550100",
		"--machine-message", "sound:vm"); code != 0 {
		t.Errorf("machine message: %d %q", code, errOut)
	}
	out, _, _ = runLeads(t, "campaign", "show", "vm", "--db", db)
	if !strings.Contains(out, `"machine_message": "sound:vm"`) {
		t.Errorf("show without the machine message:\n%s", out)
	}
}
