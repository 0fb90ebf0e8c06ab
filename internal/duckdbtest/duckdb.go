// Package duckdbtest runs SQL in DuckDB (npm @duckdb/node-api, through
// node) for tests that check what analytics engines read from exported
// files. DuckDB has no Go binding without cgo, and its npm package ships
// a prebuilt binary, so node is the way to reach a real DuckDB here.
package duckdbtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

//go:embed query.js
var script []byte

// EnvModules names a node_modules directory holding @duckdb/node-api,
// checked before <repo>/.cache/node_modules.
const EnvModules = "SNAPEX_NODE_MODULES"

const install = "run scripts/install-test-deps.sh (it installs @duckdb/node-api into .cache/node_modules), " +
	"or npm install --prefix DIR @duckdb/node-api@1.5.6-r.1 and set " + EnvModules + "=DIR/node_modules"

// modules finds the node_modules directory with DuckDB, failing the test
// with how to install it when there is none.
func modules(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not on PATH; DuckDB checks need Node 20+ and @duckdb/node-api: %s", install)
	}
	var dirs []string
	if d := os.Getenv(EnvModules); d != "" {
		dirs = append(dirs, d)
	}
	if root := repoRoot(); root != "" {
		dirs = append(dirs, filepath.Join(root, ".cache", "node_modules"))
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "@duckdb", "node-api", "package.json")); err == nil {
			return d
		}
	}
	t.Fatalf("@duckdb/node-api not found in %v: %s", dirs, install)
	return ""
}

// Query runs each statement in one in-memory DuckDB and returns each one's
// rows as JSON objects (DuckDB's JSON rendering: decimals and big
// integers as strings, BLOBs as \x escapes, lists and structs nested).
func Query(t testing.TB, statements ...string) [][]map[string]any {
	t.Helper()
	dir := modules(t)
	js := filepath.Join(t.TempDir(), "query.js")
	if err := os.WriteFile(js, script, 0o644); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(statements)
	cmd := exec.Command("node", js, dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("duckdb: %v: %s\nstatements: %q", err, stderr.String(), statements)
	}
	var res [][]map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("duckdb output: %v: %s", err, out)
	}
	return res
}

// repoRoot is the nearest directory above the working directory with the
// repository's go.mod, or "".
func repoRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.HasPrefix(b, []byte("module github.com/snapex/snapex\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}
