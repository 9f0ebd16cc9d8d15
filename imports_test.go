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
var pure = []string{".", "./routing", "./ivr", "./campaign", "./dialer", "./recording", "./calendar", "./erlang", "./queuelog", "./internal/handoff"}

// forbidden are the imports a pure package must not reach, directly or not.
var forbidden = []string{"net/http", "database/sql", "github.com/CyCoreSystems/", "github.com/fiorix/", "github.com/spf13/viper",
	"github.com/jmoiron/sqlx", "github.com/mattn/go-sqlite3", "github.com/jackc/"}

// TestPurePackagesImportNoIO fails when a pure package comes to depend on
// HTTP, ARI, ESL, SQL or viper (go list -deps, the build's own graph).
func TestPurePackagesImportNoIO(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, p := range pure {
		out, err := exec.Command(gobin, "list", "-deps", p).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", p, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, f := range forbidden {
				if dep == f || strings.HasPrefix(dep, f) && strings.HasSuffix(f, "/") || strings.HasPrefix(dep, f+"/") && !strings.HasPrefix(dep, "database/sql/driver") {
					t.Errorf("%s depends on %s", p, dep)
				}
			}
		}
	}
}
