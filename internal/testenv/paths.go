package testenv

import (
	"bufio"
	"errors"
	"fmt"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// rootModule is the module path whose go.mod marks the repository root.
const rootModule = "github.com/snapex/snapex"

// repoRoot returns the repository root: the nearest directory at or above
// the working directory whose go.mod declares rootModule.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("get working directory: %w", err)
	}
	for {
		if modulePath(filepath.Join(dir, "go.mod")) == rootModule {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod of " + rootModule + " above the working directory")
		}
		dir = parent
	}
}

// modulePath returns the module path declared in the go.mod at path, or ""
// when the file is missing or has no module line.
func modulePath(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}

// cacheDirs returns <repo>/.cache/bin and <repo>/.cache/node_modules/.bin,
// where scripts/install-test-deps.sh installs programs.
func cacheDirs() []string {
	root, err := repoRoot()
	if err != nil {
		return nil
	}
	return []string{
		filepath.Join(root, ".cache", "bin"),
		filepath.Join(root, ".cache", "node_modules", ".bin"),
	}
}

// gopathBins returns the bin directory of every GOPATH entry.
func gopathBins() []string {
	var dirs []string
	for _, p := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	return dirs
}

// searchDirs lists where programs are looked for after PATH. With
// cacheFirst, the repository cache comes first (used for programs built from
// the pinned tools/ module, which must win over other versions).
func searchDirs(cacheFirst bool) []string {
	if cacheFirst {
		return append(cacheDirs(), gopathBins()...)
	}
	return append(gopathBins(), cacheDirs()...)
}

// findBinary looks for an executable named name: on PATH, in the GOPATH bin
// directories, then in the repository cache; with cacheFirst the cache is
// searched before everything else.
func findBinary(name string, cacheFirst bool) (string, error) {
	dirs := searchDirs(cacheFirst)
	if !cacheFirst {
		if p, err := exec.LookPath(name); err == nil {
			return filepath.Abs(p)
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	if cacheFirst {
		if p, err := exec.LookPath(name); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("testenv: %s not found on PATH or in %s; install the test servers with: %s (run from the repository root)",
		name, strings.Join(dirs, ", "), installHint)
}

// isExecutable reports whether path is a regular file with an execute bit.
func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// requireBinary returns the path of the program name or fails the test with
// the install command.
func requireBinary(t testing.TB, name string, cacheFirst bool) string {
	t.Helper()
	p, err := findBinary(name, cacheFirst)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
