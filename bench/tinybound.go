package main

// tinyTargets writes issue 19's loopback rows for the tiny collections:
// snapex to the local directory against the bound "floor and limit
// together, perfectly overlapped" (≥ 80 %), snapex to S3 against the
// PUT-only floor (≥ 90 %), and, when the convert contender ran, the same
// bound with the reading and converting an export cannot skip added, so
// the table shows how much of the gap is the work the first bound leaves
// out.
func (rp *report) tinyTargets(w func(string, ...any), met func(bool) string) {
	cores := float64(rp.CPUs)
	snap, okS := rp.stat(dsTiny, cSnapexLocal)
	floor, okF := rp.stat(dsTiny, cFiles)
	limit, okL := rp.stat(dsTiny, cLimit)
	if okS && okF && okL && cores > 0 && floor.cpu > 0 && limit.cpu > 0 {
		bound := max(floor.median.Seconds(), (floor.cpu.Seconds()+limit.cpu.Seconds())/cores)
		r := bound / snap.median.Seconds()
		w("| snapex-local ÷ floor and limit together, perfectly overlapped (%.2f s) | `%s` | %.0f %% | | ≥ 80 %% | %s |\n", bound, dsTiny, 100*r, met(r >= 0.8))
		if conv, ok := rp.stat(dsTiny, cConvert); ok && conv.cpu > 0 {
			all := max(floor.median.Seconds(), (floor.cpu.Seconds()+limit.cpu.Seconds()+conv.cpu.Seconds())/cores)
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
