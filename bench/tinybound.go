package main

// tinyTargets writes issue 19's loopback rows for the tiny collections:
// snapex to the local directory against the bound "floor and limit
// together, perfectly overlapped" (≥ 80 %), snapex to S3 against the
// PUT-only floor (≥ 90 %), and, when the convert contender ran, the same
// bound with the reading and converting an export cannot skip added, so
// the table shows how much of the gap is the work the first bound leaves
// out.
func (rp *report) tinyTargets(w func(string, ...any), met func(bool) string) {
	snap, okS := rp.stat(dsTiny, cSnapexLocal)
	if bound, ok := rp.overlapped(cLimit); okS && ok {
		r := bound / snap.median.Seconds()
		w("| snapex-local ÷ floor and limit together, perfectly overlapped (%.2f s) | `%s` | %.0f %% | | ≥ 80 %% | %s |\n", bound, dsTiny, 100*r, met(r >= 0.8))
		if all, ok := rp.overlapped(cLimit, cConvert); ok {
			floor, _ := rp.stat(dsTiny, cFiles)
			limit, _ := rp.stat(dsTiny, cLimit)
			conv, _ := rp.stat(dsTiny, cConvert)
			w("| bound, not a target: floor, limit and reading + converting the snapshot together, perfectly overlapped (%.2f s; %.2f + %.2f + %.2f CPU s ÷ %d cores); 80 %% of the bound above needs %.2f s | `%s` | snapex-local at %.0f %% of it | | — | — |\n",
				all, floor.cpu.Seconds(), limit.cpu.Seconds(), conv.cpu.Seconds(), rp.CPUs, bound/0.8, dsTiny, 100*all/snap.median.Seconds())
		}
	}
	if a, ok := rp.stat(dsTiny, cSnapexS3); ok {
		if f, ok := rp.stat(dsTiny, cFilesS3); ok {
			r := f.median.Seconds() / a.median.Seconds()
			w("| snapex-S3 ÷ PUT-only floor (%d in flight), loopback | `%s` | %.0f %% | | ≥ 90 %% | %s |\n", floorWorkers, dsTiny, 100*r, met(r >= 0.9))
		}
	}
}

// overlapped is the shortest an export of tiny could take if it did the
// floor's work and that of the contenders cs, perfectly overlapped on every
// core: the largest of the floor's wall time (its directory creations in
// one parent directory serialize) and their CPU time ÷ cores. It is false
// unless the floor and every one of cs ran with a CPU time.
func (rp *report) overlapped(cs ...string) (float64, bool) {
	floor, ok := rp.stat(dsTiny, cFiles)
	if !ok || floor.cpu <= 0 || rp.CPUs <= 0 {
		return 0, false
	}
	cpu := floor.cpu.Seconds()
	for _, c := range cs {
		st, ok := rp.stat(dsTiny, c)
		if !ok || st.cpu <= 0 {
			return 0, false
		}
		cpu += st.cpu.Seconds()
	}
	return max(floor.median.Seconds(), cpu/float64(rp.CPUs)), true
}
