package testenv

import (
	"slices"
	"testing"
)

// mongoTools are the mongo-tools programs built from the tools/ module.
var mongoTools = []string{"bsondump", "mongodump", "mongoexport", "mongoimport", "mongorestore"}

// Tool returns the path of a mongo-tools program (bsondump, mongodump,
// mongoexport, mongoimport or mongorestore) built from the pinned tools/
// module by scripts/install-test-deps.sh. The repository's .cache/bin is
// searched before PATH so the pinned build wins over other installs.
func Tool(t testing.TB, name string) string {
	t.Helper()
	if !slices.Contains(mongoTools, name) {
		t.Fatalf("testenv: unknown tool %q; known: %v", name, mongoTools)
	}
	return requireBinary(t, name, true)
}
