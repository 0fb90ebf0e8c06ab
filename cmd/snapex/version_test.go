package main

import (
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionFromBuildInfo: the version and commit come from the build
// information the go command embeds, never a placeholder.
func TestVersionFromBuildInfo(t *testing.T) {
	old := version
	t.Cleanup(func() { version = old })
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/snapex/snapex", Version: "v0.3.1-0.20261205001129-48d39de1a2b3+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "48d39de1a2b3c4d5e6f708192a3b4c5d6e7f8091"}, {Key: "vcs.time", Value: "2026-12-05T00:11:29Z"}, {Key: "vcs.modified", Value: "true"}}}
	version = buildVersion(info)
	got := versionText(info)
	for _, want := range []string{"snapex v0.3.1-0.20261205001129-48d39de1a2b3+dirty\n", "commit 48d39de1a2b3c4d5e6f708192a3b4c5d6e7f8091 (2026-12-05T00:11:29Z) with uncommitted changes\n", "go1.26.8 "} {
		if !strings.Contains(got, want) {
			t.Errorf("version text %q lacks %q", got, want)
		}
	}
	version = buildVersion(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}})
	if got := versionText(nil); !strings.HasPrefix(got, "snapex (devel)\ncommit unknown") || strings.Contains(got, " dev\n") {
		t.Errorf("version text without build info: %q", got)
	}
}
