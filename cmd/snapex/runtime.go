package main

import (
	"log/slog"
	"runtime/debug"

	"github.com/snapex/snapex/internal/config"
)

// The Go runtime's defaults for a snapex server: the collector runs when
// the heap has grown 400 % (not 100 %) since the last cycle, bounded by a
// soft memory limit. An export of thousands of small collections produces
// short-lived garbage with a small live heap; at GOGC=100 the collector
// ran every few megabytes. The limit keeps the peak where the export's
// budget is (blocks in flight and upload parts) rather than at five times
// the live heap.
const (
	defaultGCPercent      = 400
	defaultMemoryLimitMiB = 160
)

// runtimeSettings is what tuneRuntime applied; -1 means left to the
// environment (GOGC, GOMEMLIMIT).
type runtimeSettings struct {
	GCPercent      int
	MemoryLimitMiB int
}

// tuneRuntime applies the memory settings: memoryLimitMiB from the config
// wins, then GOMEMLIMIT, then the default; GOGC, when set, wins over the
// default GC percentage.
func tuneRuntime(cfg *config.Config, getenv func(string) string) runtimeSettings {
	s := runtimeSettings{GCPercent: -1, MemoryLimitMiB: -1}
	switch {
	case cfg.MemoryLimitMiB > 0:
		s.MemoryLimitMiB = cfg.MemoryLimitMiB
	case getenv("GOMEMLIMIT") == "":
		s.MemoryLimitMiB = defaultMemoryLimitMiB
	}
	if s.MemoryLimitMiB > 0 {
		debug.SetMemoryLimit(int64(s.MemoryLimitMiB) << 20)
	}
	if getenv("GOGC") == "" {
		s.GCPercent = defaultGCPercent
		debug.SetGCPercent(s.GCPercent)
	}
	return s
}

// logRuntime reports the memory settings in effect.
func logRuntime(log *slog.Logger, s runtimeSettings) {
	log.Info("go runtime", "gcPercent", s.GCPercent, "memoryLimitMiB", debug.SetMemoryLimit(-1)>>20)
}
