package main

import (
	"runtime/debug"
	"testing"

	"github.com/snapex/snapex/internal/config"
)

func TestTuneRuntime(t *testing.T) {
	oldGC := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldGC)
		debug.SetMemoryLimit(oldLimit)
	})
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}
	cases := []struct {
		name      string
		cfgMiB    int
		vars      map[string]string
		wantMiB   int64 // the limit in effect afterwards
		wantGC    int   // the percentage in effect afterwards
		untouched int64 // the limit set before, when the environment decides
	}{
		{name: "defaults", wantMiB: defaultMemoryLimitMiB, wantGC: defaultGCPercent},
		{name: "config wins over GOMEMLIMIT", cfgMiB: 512, vars: map[string]string{"GOMEMLIMIT": "1GiB"}, wantMiB: 512, wantGC: defaultGCPercent},
		{name: "environment decides", vars: map[string]string{"GOMEMLIMIT": "1GiB", "GOGC": "50"}, untouched: 333, wantMiB: 333, wantGC: 77},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// What the runtime would have read from the environment.
			debug.SetGCPercent(77)
			debug.SetMemoryLimit(c.untouched << 20)
			tuneRuntime(&config.Config{MemoryLimitMiB: c.cfgMiB}, env(c.vars))
			if got := debug.SetMemoryLimit(-1) >> 20; got != c.wantMiB {
				t.Errorf("memory limit %d MiB, want %d", got, c.wantMiB)
			}
			if got := debug.SetGCPercent(77); got != c.wantGC {
				t.Errorf("GC percent %d, want %d", got, c.wantGC)
			}
		})
	}
}
