package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version and commit may be set at build time with
// -ldflags "-X main.version=v1.2.3 -X main.commit=abc123" where the build
// information lacks them (a source tarball, a git worktree); otherwise
// main fills them from the build information.
var version, commit string

// buildVersion is the main module's version from the build information:
// a release tag for `go install …@v1.2.3`, a pseudo-version naming the
// commit for `go build` in a git clone, "(devel)" without either.
func buildVersion(info *debug.BuildInfo) string {
	if info == nil || info.Main.Version == "" {
		return "(devel)"
	}
	return info.Main.Version
}

// versionText is what `snapex version` prints: version, commit (with its
// time and whether the tree had uncommitted changes) and the Go toolchain.
func versionText(info *debug.BuildInfo) string {
	rev, when, modified := commit, "", false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if rev == "" {
		rev = "unknown (no VCS information in this build: build in a git clone, or pass -ldflags \"-X main.commit=…\")"
	}
	s := fmt.Sprintf("snapex %s\ncommit %s", version, rev)
	if when != "" {
		s += " (" + when + ")"
	}
	if modified {
		s += " with uncommitted changes"
	}
	goVersion := runtime.Version()
	if info != nil && info.GoVersion != "" {
		goVersion = info.GoVersion
	}
	return s + "\n" + goVersion + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
}

// readBuildInfo is the binary's build information, nil when absent.
func readBuildInfo() *debug.BuildInfo {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return info
}
