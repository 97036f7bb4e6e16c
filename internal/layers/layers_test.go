// Package layers holds only tests of the repository as a whole: imports point down the
// layers that docs/architecture.md#layers describes, and references to docs/ resolve.
package layers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/rdsencrypt/rdsencrypt"

// layers lists the module's packages from the bottom up: a package may import only
// packages of lower layers. A new package goes into the layer its imports allow.
var layers = [][]string{
	{"internal/model", "internal/redact", "internal/dataplane", "internal/replication"}, // domain types, secret removal, database engines, the replication interface
	{"internal/awsclient", "internal/journal", "internal/rdssim", // the AWS adapter, the state directory, the simulator,
		"internal/replication/postgres", "internal/replication/mysql"}, // the replication engines (the SQL adapters)
	{"internal/workflow", "internal/rdssim/simtest"}, // the engine and routes; simulator test support
	{"internal/fleet", "internal/iampolicy"},         // scan and batch; the IAM policy from the route tables
	{"internal/output"},                              // text, tables, Markdown, JSON, line prompts
	{"internal/output/tui"},                          // the full-screen UI
	{"cmd/rdsencrypt", "cmd/rdssim"},                 // flags, wiring, exit codes
}

// only says which packages alone may import a package (by import path prefix): the AWS
// SDK's service clients are the adapter's, the terminal and CLI libraries the outer layers'.
var only = map[string][]string{
	"github.com/aws/aws-sdk-go-v2/service/": {"internal/awsclient", "internal/rdssim/simtest"},
	"github.com/charmbracelet/":             {"internal/output/tui"},
	"github.com/spf13/cobra":                {"cmd/rdsencrypt"},
	"github.com/spf13/pflag":                {"cmd/rdsencrypt"},
	"github.com/mattn/go-isatty":            {"cmd/rdsencrypt", "internal/output/tui"},
	"golang.org/x/term":                     {"cmd/rdsencrypt", "internal/output/tui"},
	// SQL drivers: the simulator's servers and the replication engines; the workflow speaks
	// to a replication.Engine, never to a driver.
	"github.com/jackc/pgx/":          {"internal/dataplane", "internal/replication/postgres"},
	"github.com/go-sql-driver/mysql": {"internal/dataplane", "internal/replication/mysql"},
}

// simulator: the simulator follows AWS, not the tool, so it imports none of the tool's
// packages (only the database engines it runs behind the control plane).
var simulatorMay = []string{"internal/dataplane"}

// violations checks a module's import graph (package -> imports, packages relative to the
// module, other imports in full) against the rules above.
func violations(graph map[string][]string) []string {
	rank := map[string]int{}
	for i, layer := range layers {
		for _, p := range layer {
			rank[p] = i
		}
	}
	var out []string
	for pkg, imports := range graph {
		r, known := rank[pkg]
		if !known {
			out = append(out, pkg+": not in any layer of internal/layers (add it where its imports allow)")
		}
		for _, imp := range imports {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				if ir, ok := rank[rel]; ok && known && ir >= r && rel != pkg {
					out = append(out, pkg+" imports "+rel+": upward or sideways (layer "+strconv.Itoa(ir)+" from layer "+strconv.Itoa(r)+")")
				}
				if strings.HasPrefix(pkg, "internal/rdssim") && pkg != "internal/rdssim/simtest" &&
					!strings.HasPrefix(rel, "internal/rdssim") && !slices.Contains(simulatorMay, rel) {
					out = append(out, pkg+" imports "+rel+": the simulator imports none of the tool's packages")
				}
				continue
			}
			for prefix, who := range only {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(who, pkg) {
					out = append(out, pkg+" imports "+imp+": only "+strings.Join(who, ", ")+" may")
				}
			}
		}
	}
	slices.Sort(out)
	return out
}

// moduleGraph reads the imports of the non-test Go files of every package of the module.
func moduleGraph(t *testing.T) map[string][]string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "module "+module+"\n")

	graph := map[string][]string{}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (name == "testdata" || strings.HasPrefix(name, ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := filepath.ToSlash(rel)
		if _, ok := graph[pkg]; !ok {
			graph[pkg] = nil
		}
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			if !slices.Contains(graph[pkg], imp) {
				graph[pkg] = append(graph[pkg], imp)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return graph
}

func TestImportsPointDown(t *testing.T) {
	graph := moduleGraph(t)
	require.Contains(t, graph, "internal/workflow", "the walk found the module's packages")
	assert.Empty(t, violations(graph))
}

// TestViolationsAreFound feeds the check graphs that break each rule.
func TestViolationsAreFound(t *testing.T) {
	assert.Empty(t, violations(map[string][]string{
		"internal/workflow": {module + "/internal/model", "context"},
		"cmd/rdsencrypt":    {module + "/internal/output/tui", "github.com/spf13/cobra"},
	}))
	assert.Equal(t, []string{
		"internal/model imports internal/workflow: upward or sideways (layer 2 from layer 0)",
		"internal/newthing: not in any layer of internal/layers (add it where its imports allow)",
		"internal/rdssim imports internal/model: the simulator imports none of the tool's packages",
		"internal/workflow imports github.com/aws/aws-sdk-go-v2/service/rds: only internal/awsclient, internal/rdssim/simtest may",
		"internal/workflow imports github.com/charmbracelet/lipgloss: only internal/output/tui may",
		"internal/workflow imports github.com/jackc/pgx/v5: only internal/dataplane, internal/replication/postgres may",
		"internal/workflow imports internal/fleet: upward or sideways (layer 3 from layer 2)",
	}, violations(map[string][]string{
		"internal/model":    {module + "/internal/workflow"},
		"internal/workflow": {module + "/internal/fleet", "github.com/aws/aws-sdk-go-v2/service/rds", "github.com/charmbracelet/lipgloss", "github.com/jackc/pgx/v5"},
		"internal/rdssim":   {module + "/internal/model"},
		"internal/newthing": nil,
	}))
}
