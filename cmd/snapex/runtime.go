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

// tuneRuntime applies the memory settings: memoryLimitMiB from the config
// wins, then GOMEMLIMIT, then the default; GOGC, when set, wins over the
// default GC percentage.
func tuneRuntime(cfg *config.Config, getenv func(string) string) {
	switch {
	case cfg.MemoryLimitMiB > 0:
		debug.SetMemoryLimit(int64(cfg.MemoryLimitMiB) << 20)
	case getenv("GOMEMLIMIT") == "":
		debug.SetMemoryLimit(defaultMemoryLimitMiB << 20)
	}
	if getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
}

// logRuntime reports the memory settings in effect.
func logRuntime(log *slog.Logger) {
	gc := debug.SetGCPercent(-1) // reading it means setting it: put it back
	debug.SetGCPercent(gc)
	log.Info("go runtime", "gcPercent", gc, "memoryLimitMiB", debug.SetMemoryLimit(-1)>>20)
}
