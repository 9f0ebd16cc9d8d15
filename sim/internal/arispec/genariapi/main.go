// Command genariapi writes the ARI declarations as a Go table for the
// simulator's /ari/api-docs (run by `go generate ./sim`):
//
//	genariapi -spec ../../shared/ari-spec -out ariapi_gen.go
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/switchboard/switchboard/sim/internal/arispec"
)

func main() {
	spec := flag.String("spec", "../../shared/ari-spec", "folder of the ARI Swagger files (resources.json and the declarations it lists)")
	out := flag.String("out", "ariapi_gen.go", "Go file to write")
	pkg := flag.String("pkg", "sim", "package of the Go file")
	name := flag.String("var", "ariDeclarations", "variable that holds the table")
	flag.Parse()
	if err := run(*spec, *out, *pkg, *name); err != nil {
		fmt.Fprintln(os.Stderr, "genariapi:", err)
		os.Exit(1)
	}
}

func run(spec, out, pkg, name string) error {
	l, err := arispec.Load(spec)
	if err != nil {
		return err
	}
	src, err := arispec.Source(pkg, name, arispec.Generator, l)
	if err != nil {
		return err
	}
	if err := os.WriteFile(out, src, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}
