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
	// The runtime has already applied GOGC and GOMEMLIMIT, when set, at
	// start-up; each case starts from these stand-ins for them.
	const envGC, envMiB = 77, 333
	cases := []struct {
		name    string
		cfgMiB  int
		vars    map[string]string
		wantMiB int64 // the limit in effect afterwards
		wantGC  int   // the percentage in effect afterwards
	}{
		{name: "defaults", wantMiB: defaultMemoryLimitMiB, wantGC: defaultGCPercent},
		{name: "config wins over GOMEMLIMIT", cfgMiB: 512, vars: map[string]string{"GOMEMLIMIT": "1GiB"}, wantMiB: 512, wantGC: defaultGCPercent},
		{name: "environment decides", vars: map[string]string{"GOMEMLIMIT": "1GiB", "GOGC": "50"}, wantMiB: envMiB, wantGC: envGC},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			debug.SetGCPercent(envGC)
			debug.SetMemoryLimit(envMiB << 20)
			tuneRuntime(&config.Config{MemoryLimitMiB: c.cfgMiB}, env(c.vars))
			if got := debug.SetMemoryLimit(-1) >> 20; got != c.wantMiB {
				t.Errorf("memory limit %d MiB, want %d", got, c.wantMiB)
			}
			if got := debug.SetGCPercent(envGC); got != c.wantGC {
				t.Errorf("GC percent %d, want %d", got, c.wantGC)
			}
		})
	}
}
