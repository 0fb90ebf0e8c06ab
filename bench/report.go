package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// rssTarget is the peak RSS every snapex export must stay under.
const rssTarget = 256 << 20

// report is everything a results table is made from. It is saved as JSON
// next to the markdown, so the table can be rendered again (-render)
// without measuring again.
type report struct {
	Args        []string                    `json:"args"`
	Facts       []string                    `json:"facts"`
	CPUs        int                         `json:"cpus"` // cores the harness ran on
	Scale       float64                     `json:"scale"`
	Runs        int                         `json:"runs"`
	ChunkMiB    int                         `json:"chunkMiB"`
	Parallelism int                         `json:"parallelism"`
	Datasets    []string                    `json:"datasets"`
	Contenders  []string                    `json:"contenders"`
	Latencies   []string                    `json:"latencies,omitempty"`
	Infos       map[string]*datasetInfo     `json:"infos"`
	Cells       map[string]map[string]*cell `json:"cells"`
	Imports     map[string]time.Duration    `json:"imports"`
	Elapsed     time.Duration               `json:"elapsed"`
	// RestoreData is the decimal-free dataset the restores load, by
	// dataset.
	RestoreData map[string]*datasetInfo `json:"restoreData,omitempty"`
}

// stats summarises a cell's runs.
type stats struct {
	n                int
	median, min, max time.Duration
	rss              int64         // largest peak RSS of the runs
	cpu              time.Duration // median CPU time
	out              int64         // output bytes of the last run
}

func summarize(rs []result) (stats, bool) {
	if len(rs) == 0 {
		return stats{}, false
	}
	walls := make([]time.Duration, len(rs))
	cpus := make([]time.Duration, len(rs))
	s := stats{n: len(rs), out: rs[len(rs)-1].OutBytes}
	for i, r := range rs {
		walls[i], cpus[i] = r.Wall, r.CPU
		s.rss = max(s.rss, r.RSS)
	}
	slices.Sort(walls)
	s.min, s.max = walls[0], walls[len(walls)-1]
	s.median, s.cpu = median(walls), median(cpus)
	return s, true
}

// median of a non-empty slice (sorted in place).
func median(xs []time.Duration) time.Duration {
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func (rp *report) stat(ds, c string) (stats, bool) {
	cl := rp.Cells[ds][c]
	if cl == nil {
		return stats{}, false
	}
	return summarize(cl.Runs)
}

// command is how this run was started.
func (rp *report) command() string {
	parts := []string{"go run ./bench"}
	for _, a := range rp.Args {
		if strings.ContainsAny(a, " \t'\"$|") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

func mib(b int64) string { return fmt.Sprintf("%.1f", float64(b)/(1<<20)) }

func secs(d time.Duration) string {
	s := d.Seconds()
	switch {
	case s < 10:
		return fmt.Sprintf("%.2f", s)
	case s < 100:
		return fmt.Sprintf("%.1f", s)
	}
	return fmt.Sprintf("%.0f", s)
}

func rate(x float64) string {
	switch {
	case x >= 1e6:
		return fmt.Sprintf("%.2f M", x/1e6)
	case x >= 1e4:
		return fmt.Sprintf("%.0f k", x/1e3)
	case x >= 1e3:
		return fmt.Sprintf("%.1f k", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}

// baseOf is the dataset whose non-snapex contenders stand in for ds (the
// gzip variant holds the same documents as the 20-collection dataset).
func baseOf(ds string) string {
	if ds == dsTwentyGz {
		return dsTwenty
	}
	return ds
}

func (rp *report) markdown() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# snapex export benchmark — results\n\n")
	w("Command (from the repository root): `%s`\n\n", rp.command())
	for _, f := range rp.Facts {
		w("- %s\n", f)
	}
	w("- scale %g, %d interleaved runs per contender and dataset; snapex `exports: {chunkMiB: %d, parallelism: %d}`\n",
		rp.Scale, rp.Runs, rp.ChunkMiB, rp.Parallelism)
	w("- measurement time %s (generation, conversion and imports not included)\n\n", rp.Elapsed.Round(time.Second))

	w("## Datasets\n\n")
	w("| dataset | collections | documents | BSON MiB | canonical EJSON ÷ BSON | snapex import (untimed) |\n|---|---:|---:|---:|---:|---:|\n")
	for _, ds := range rp.Datasets {
		info := rp.Infos[ds]
		ej := "—"
		if src := rp.Infos[baseOf(ds)]; src != nil && src.EJSONBytes > 0 {
			ej = fmt.Sprintf("%.2f", float64(src.EJSONBytes)/float64(src.BSONBytes))
		}
		imp := "—"
		if d, ok := rp.Imports[ds]; ok {
			imp = secs(d) + " s"
		}
		w("| `%s`: %s | %d | %d | %s | %s | %s |\n", ds, datasetTitles[ds], len(info.Collections), info.Documents, mib(info.BSONBytes), ej, imp)
	}

	w("\n## Results\n\n")
	w("Median and min–max of the wall time; MB/s is 10⁶ bytes of BSON in per second and documents/s is documents per second, both from the median wall time; CPU s is the median user + system CPU time of the contender's processes (less sensitive to other load on a shared machine than wall time); peak RSS is the largest of the runs.\n\n")
	w("| dataset | contender | runs | wall median s | wall min–max s | MB/s BSON in | documents/s | CPU s | peak RSS MiB | output ÷ BSON |\n")
	w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	var notes []string
	for _, ds := range rp.Datasets {
		info := rp.Infos[ds]
		for _, c := range rp.Contenders {
			cl := rp.Cells[ds][c]
			if cl.Skipped == "-" {
				continue
			}
			if cl.Skipped != "" {
				w("| `%s` | %s | 0 | — | — | — | — | — | — | — |\n", ds, title(c))
				notes = append(notes, fmt.Sprintf("%s on `%s` did not run: %s", title(c), ds, cl.Skipped))
				continue
			}
			s, ok := summarize(cl.Runs)
			if !ok {
				continue
			}
			for _, r := range cl.Runs {
				if r.Note != "" {
					notes = append(notes, fmt.Sprintf("%s on `%s`: %s", title(c), ds, r.Note))
				}
			}
			sec := s.median.Seconds()
			w("| `%s` | %s | %d | %s | %s–%s | %.1f | %s | %s | %s | %.3f |\n", ds, title(c), s.n, secs(s.median),
				secs(s.min), secs(s.max), float64(info.BSONBytes)/1e6/sec, rate(float64(info.Documents)/sec),
				secs(s.cpu), mib(s.rss), float64(s.out)/float64(info.BSONBytes))
		}
	}
	for _, n := range slices.Compact(notes) {
		w("\n- %s", n)
	}
	if len(notes) > 0 {
		w("\n")
	}

	w("\n## Targets (issue 7)\n\n")
	w("Ratios of median wall times (throughput ratios); the targets are judged on these. For comparison, the same ratio of median CPU times (how much work each contender spends, less disturbed by other load on the machine but blind to how well a contender uses both cores) is given too. The gzip-compressed variant is compared with the contenders' results on `%s`, which holds the same documents.\n\n", dsTwenty)
	w("| target | dataset | measured (wall) | by CPU time | goal | met |\n|---|---|---:|---:|---:|:---:|\n")
	// ratio is how many times fast outperforms slow: by wall and by CPU time.
	ratio := func(ds, fast, slow string) (wall, cpu float64, ok bool) {
		a, ok1 := rp.stat(ds, fast)
		bs, ok2 := rp.stat(baseOf(ds), slow)
		if !ok1 || !ok2 {
			return 0, 0, false
		}
		if a.cpu > 0 && bs.cpu > 0 {
			cpu = bs.cpu.Seconds() / a.cpu.Seconds()
		}
		return bs.median.Seconds() / a.median.Seconds(), cpu, true
	}
	met := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "**no**"
	}
	for _, ds := range rp.Datasets {
		if r, rc, ok := ratio(ds, cSnapexLocal, cGzip); ok {
			w("| snapex-local ÷ `bsondump \\| gzip -1` | `%s` | %.1f× | %.1f× | ≥ 15× | %s |\n", ds, r, rc, met(r >= 15))
		}
	}
	for _, ds := range rp.Datasets {
		if r, rc, ok := ratio(ds, cSnapexLocal, cLimit); ok {
			w("| snapex-local ÷ limit | `%s` | %.0f %% | %.0f %% | ≥ 50 %% | %s |\n", ds, 100*r, 100*rc, met(r >= 0.5))
		}
	}
	for _, ds := range rp.Datasets {
		if r, rc, ok := ratio(ds, cSnapexS3, cLimit); ok {
			w("| snapex-S3 ÷ limit | `%s` | %.0f %% | %.0f %% | ≥ 35 %% | %s |\n", ds, 100*r, 100*rc, met(r >= 0.35))
		}
	}
	for _, c := range []string{cSnapexLocal, cSnapexS3} {
		tiny, ok1 := rp.stat(dsTiny, c)
		twenty, ok2 := rp.stat(dsTwenty, c)
		if !ok1 || !ok2 {
			continue
		}
		nt, n20 := float64(rp.Infos[dsTiny].Documents), float64(rp.Infos[dsTwenty].Documents)
		dt, d20 := nt/tiny.median.Seconds(), n20/twenty.median.Seconds()
		byCPU := 0.0
		if tiny.cpu > 0 && twenty.cpu > 0 {
			byCPU = (nt / tiny.cpu.Seconds()) / (n20 / twenty.cpu.Seconds())
		}
		w("| %s: tiny-collections documents/s ÷ 20-collection documents/s | `%s` ÷ `%s` | %.2f (%s vs %s) | %.2f | ≥ 0.33 (within 3×) | %s |\n",
			c, dsTiny, dsTwenty, dt/d20, rate(dt), rate(d20), byCPU, met(dt/d20 >= 1.0/3))
	}
	// What the tiny-collections target is up against on this machine: the
	// same rate for work that is only part of an export.
	if twenty, ok := rp.stat(dsTwenty, cSnapexLocal); ok {
		n20 := float64(rp.Infos[dsTwenty].Documents) / twenty.median.Seconds()
		for _, c := range []string{cLimit, cFiles, cFilesS3} {
			if st, ok := rp.stat(dsTiny, c); ok {
				dt := float64(rp.Infos[dsTiny].Documents) / st.median.Seconds()
				w("| bound, not a target: %s on `%s`, documents/s ÷ snapex-local's on `%s` | `%s` ÷ `%s` | %.2f (%s vs %s) | | — | — |\n",
					title(c), dsTiny, dsTwenty, dsTiny, dsTwenty, dt/n20, rate(dt), rate(n20))
			}
		}
		// An export must both create the files and compress the data.
		if best, ok := rp.overlapped(cLimit); ok {
			dt := float64(rp.Infos[dsTiny].Documents) / best
			w("| bound, not a target: floor and limit together on `%s`, perfectly overlapped on %d cores (max of the floor's wall time and their CPU time ÷ cores), documents/s ÷ snapex-local's on `%s` | `%s` ÷ `%s` | %.2f (%s vs %s) | | — | — |\n",
				dsTiny, rp.CPUs, dsTwenty, dsTiny, dsTwenty, dt/n20, rate(dt), rate(n20))
		}
	}
	rp.tinyTargets(w, met)
	rp.latencyTargets(w, met)
	for _, ds := range rp.Datasets {
		var worst int64
		found := false
		for _, c := range rp.Contenders {
			if !strings.HasPrefix(c, "snapex") {
				continue
			}
			if s, ok := rp.stat(ds, c); ok {
				worst, found = max(worst, s.rss), true
			}
		}
		if found {
			w("| snapex peak RSS (worst run, every destination and latency) | `%s` | %s MiB | | < 256 MiB | %s |\n", ds, mib(worst), met(worst < rssTarget))
		}
	}

	rp.captureSection(w, met)
	rp.restoreSection(w, met)
	rp.parquetSection(w, met)
	w("\n## How each contender is measured\n\n")
	w("- **snapex**: `snapex serve` is started fresh for every run; an export bucket is created over the API, then the wall time runs from `POST …/backup/exports` until `GET …/exports/{id}` (polled every 50 ms) says `Successful`, so it includes queue pickup and the `.complete` object. Peak RSS is the server's VmHWM and CPU time the server's utime + stime between the POST and the end, both read from /proc. The snapshot was imported once per dataset before the measurement.\n")
	w("- **`bsondump | gzip -1`**, **`bsondump | pigz -1 -p 2`**: one pipeline per collection, one after another, output to files; wall time covers all collections including process start-up. Peak RSS is the largest maxrss (wait4 rusage) of any process of the pipelines, which are started by a small child process of the harness (Linux counts the starting process's peak into a vforked child's maxrss); CPU time is the sum over all pipeline processes.\n")
	w("- **limit**: klauspost/compress gzip level 1 over the canonical Extended JSON produced beforehand (untimed), %d goroutines (one per core) taking files in pieces of up to %d MiB, output discarded; measured in a child process (its own wall time, CPU time and VmHWM).\n", runtime.NumCPU(), limitUnit>>20)
	w("- **floor**: the export's files without the export: for every collection, its directory (one mkdir, under a prefix as deep as an export's), its data file and its metadata.json, written by %d goroutines (the fewest small collections snapex keeps in flight, about what it keeps against loopback stores), then one syncfs; measured in a child process. The contents are prepared before the clock starts (the data file already gzip-compressed at level 1, so it is as large as the export's): on `tiny` it shows what creating 10,000 directories and 20,000 small files alone costs on this file system — nothing is read, encoded or compressed in the timed part.\n", floorWorkers)
	w("- **read and convert** (`tiny` only): every collection's `.metadata.json` and `.bson` of the dump read from the page cache, the metadata checked to be JSON and every document turned into canonical Extended JSON by snapex's own encoder (internal/ejson) into a reused buffer, one goroutine per core, nothing written; measured in a child process. With the limit and the floor it is the work no export can skip.\n")
	w("- **floor, S3**: the same prepared objects PUT into a fresh versitygw bucket with the AWS SDK for Go v2, %d at a time: what the objects alone cost this S3 server and client.\n", floorWorkers)
	w("%s", rp.latencyNote())
	w("- Inputs are read from the page cache: each contender's inputs are read, untimed, right before each of its runs (this machine's page cache does not keep them from one run to the next). Nothing is deleted before or during the measurements, and the first one waits until 370 s have passed since the harness last deleted files: on ext4 without a journal, file creation is up to 2–3× slower for that long after mass deletions (bench/README.md). In the first round every contender's output is checked to hold one line per document.\n")
	return b.String()
}
