package switchboard_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// pure are the packages that hold decisions as plain code (they take now
// and return what to do): no network, no PBX client, no SQL, no config
// library, so each can be tested with a fake clock alone.
var pure = []string{".", "./routing", "./ivr", "./campaign", "./campaign/obcall", "./campaign/blend", "./dialer", "./recording", "./calendar", "./erlang", "./queuelog", "./internal/handoff", "./featurecode", "./supervision", "./agentfirst", "./lifecycle", "./reconcile"}

// forbidden are the imports a pure package must not reach, directly or not.
var forbidden = []string{"net/http", "database/sql", "github.com/CyCoreSystems/", "github.com/fiorix/", "github.com/spf13/viper",
	"github.com/jmoiron/sqlx", "github.com/mattn/go-sqlite3", "github.com/jackc/"}

// noSQL are the packages that run calls and campaigns: the engine and the
// dialer reach the database only through the interfaces they are given.
var noSQL = []string{"./center", "./outbound"}

var sqlDeps = []string{"database/sql", "github.com/jmoiron/sqlx", "github.com/mattn/go-sqlite3", "github.com/jackc/"}

// TestEngineImportsNoSQL fails when the engine or the dialer comes to
// depend on a SQL package or driver.
func TestEngineImportsNoSQL(t *testing.T) {
	for _, p := range noSQL {
		for _, dep := range deps(t, p) {
			for _, f := range sqlDeps {
				if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") && !strings.HasPrefix(dep, "database/sql/driver") {
					t.Errorf("%s depends on %s", p, dep)
				}
			}
		}
	}
}

// deps lists the packages p depends on (go list -deps, the build's graph).
func deps(t *testing.T, p string) []string {
	t.Helper()
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", p).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
	}
	return strings.Fields(string(out))
}

// TestPurePackagesImportNoIO fails when a pure package comes to depend on
// HTTP, ARI, ESL, SQL or viper (go list -deps, the build's own graph).
func TestPurePackagesImportNoIO(t *testing.T) {
	for _, p := range pure {
		for _, dep := range deps(t, p) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") && !strings.HasPrefix(dep, "database/sql/driver") {
					t.Errorf("%s depends on %s", p, dep)
				}
			}
		}
	}
}

// TestEngineImportsNoAdapter fails when the engine comes to depend on an
// adapter's library: it drives the PBX through the root package's port
// and runs flow lookups through the Lookuper it is given (ivr/lookup), so
// it needs no HTTP, ARI, ESL or configuration library.
func TestEngineImportsNoAdapter(t *testing.T) {
	for _, dep := range deps(t, "./center") {
		for _, f := range []string{"net/http", "github.com/CyCoreSystems/", "github.com/fiorix/", "github.com/spf13/viper"} {
			if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("./center depends on %s", dep)
			}
		}
	}
}
