package main

import (
	"fmt"
	"time"
)

// fastest is the contender of cs with the shortest median wall time on
// ds, if any ran.
func (rp *report) fastest(ds string, cs ...string) (string, stats, bool) {
	var best string
	var bs stats
	for _, c := range cs {
		if s, ok := rp.stat(ds, c); ok && (best == "" || s.median < bs.median) {
			best, bs = c, s
		}
	}
	return best, bs, best != ""
}

// serverCPU is the median server CPU time of a cell's runs.
func serverCPU(cl *cell) time.Duration {
	var xs []time.Duration
	for _, r := range cl.Runs {
		xs = append(xs, r.ServerCPU)
	}
	if len(xs) == 0 {
		return 0
	}
	return median(xs)
}

// restoreSection writes the restore rows (issue 17) with the server's
// share and the targets.
func (rp *report) restoreSection(w func(string, ...any), met func(bool) string) {
	var rows []string
	for _, ds := range rp.Datasets {
		data := rp.RestoreData[ds]
		if data == nil {
			continue
		}
		for _, c := range restoreContenders {
			cl := rp.Cells[ds][c]
			s, ok := rp.stat(ds, c)
			if cl == nil || !ok {
				continue
			}
			sec := s.median.Seconds()
			srv, cores := "—", "—"
			if c != cRestoreParse {
				sc := serverCPU(cl)
				srv, cores = secs(sc), fmt.Sprintf("%.2f", sc.Seconds()/sec)
			}
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %.1f | %s | %s | %s | %s | %.2f |", ds, title(c), secs(s.median),
				float64(data.BSONBytes)/1e6/sec, rate(float64(data.Documents)/sec), mib(s.rss), srv, cores, s.cpu.Seconds()/sec))
		}
		sx, ok := rp.stat(ds, cRestoreSnapex)
		if !ok {
			continue
		}
		if c, imp, ok := rp.fastest(ds, cRestoreImport, cRestoreImportPar); ok {
			r := imp.median.Seconds() / sx.median.Seconds()
			rows = append(rows, fmt.Sprintf("| `%s` | **target**: snapex restore ÷ the faster mongoimport (%s) | %.2f× | | | | | goal ≥ 3× | %s |", ds, c, r, met(r >= 3)))
		}
		if mr, ok := rp.stat(ds, cRestoreDump); ok {
			r := sx.median.Seconds() / mr.median.Seconds()
			rows = append(rows, fmt.Sprintf("| `%s` | **target**: snapex restore's wall time ÷ mongorestore's | %.2f× | | | | | goal ≤ 1.5× | %s |", ds, r, met(r <= 1.5)))
		}
		rows = append(rows, fmt.Sprintf("| `%s` | **target**: snapex restore peak RSS | %s MiB | | | | | goal < 256 MiB | %s |", ds, mib(sx.rss), met(sx.rss < rssTarget)))
		if ceil, ok := rp.serverCeiling(ds); ok {
			rows = append(rows, fmt.Sprintf("| `%s` | **bound**: the server-bound ceiling — the fewest server CPU s any contender needed ÷ the most server cores any reached | %s s | | | | | snapex at %.0f %% of it; 3× the faster mongoimport means %s s | — |",
				ds, secs(ceil), 100*ceil.Seconds()/sx.median.Seconds(), secs(rp.importThird(ds))))
		}
	}
	if len(rows) == 0 {
		return
	}
	w("\n## Restore (issue 17)\n\n")
	w("Every restore loads the same documents into a fresh database of one FerretDB server (SQLite backend, the project's MongoDB-wire test server), through the compatibility proxy mongo-tools need with FerretDB (internal/testenv, used by every restore contender). The documents are the dataset's without its decimal128 values (FerretDB v1 cannot store them); MB/s and documents/s are of that dump. Server CPU s and server cores are the FerretDB process's CPU time during the run and that ÷ the wall time; client cores is the contender's own CPU time ÷ wall time. When the server sits at about one core for every contender, the server is the bottleneck and the rows compare how little each client adds. The parser row has no server: snapex's restore parser over the export's files into a null sink, one goroutine per core.\n\n")
	w("| dataset | contender | wall median s | MB/s BSON | documents/s | peak RSS MiB | server CPU s | server cores | client cores |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range rows {
		w("%s\n", r)
	}
}

// parquetSection writes the Parquet targets (issue 18).
func (rp *report) parquetSection(w func(string, ...any), met func(bool) string) {
	var rows []string
	for _, ds := range rp.Datasets {
		for _, p := range []struct{ pq, ej string }{{cSnapexLocalPq, cSnapexLocal}, {cSnapexS3Pq, cSnapexS3}} {
			a, ok1 := rp.stat(ds, p.pq)
			if !ok1 {
				continue
			}
			if b, ok := rp.stat(ds, p.ej); ok {
				r := b.median.Seconds() / a.median.Seconds()
				rows = append(rows, fmt.Sprintf("| %s ÷ %s (throughput) | `%s` | %.2f× | goal ≥ 0.5× | %s |", p.pq, p.ej, ds, r, met(r >= 0.5)))
			}
			for _, diy := range []string{cDIYDuckDB, cDIYDuckDBBSON} {
				if d, ok := rp.stat(ds, diy); ok {
					r := d.median.Seconds() / a.median.Seconds()
					rows = append(rows, fmt.Sprintf("| %s ÷ %s (throughput) | `%s` | %.1f× | goal ≥ 10× | %s |", p.pq, diy, ds, r, met(r >= 10)))
				}
			}
			rows = append(rows, fmt.Sprintf("| %s peak RSS | `%s` | %s MiB | goal < 256 MiB | %s |", p.pq, ds, mib(a.rss), met(a.rss < rssTarget)))
		}
	}
	if len(rows) == 0 {
		return
	}
	w("\n## Parquet export (issue 18)\n\n")
	w("Ratios of median wall times. The DIY path converts the ready canonical Extended JSON (made untimed, as `bsondump` writes it) with DuckDB's Node.js client (`@duckdb/node-api`), one `COPY … TO … (FORMAT parquet)` per collection in one node process; its wall time includes node's start-up. `diy-duckdb-bsondump` times the conversion to JSON too: `bsondump --outFile` per collection, then the same DuckDB step.\n\n")
	w("| target | dataset | measured | goal | met |\n|---|---|---:|---:|:---:|\n")
	for _, r := range rows {
		w("%s\n", r)
	}
}

// serverCeiling is the shortest wall time any client could restore ds in
// against this server: the least server CPU time any server-bound
// contender needed (the server's own work to store the documents) spread
// over the most cores the server was seen to use. When it is close to
// snapex's wall time, the server, not the client, decides the result.
func (rp *report) serverCeiling(ds string) (time.Duration, bool) {
	var least time.Duration
	var cores float64
	for _, c := range restoreContenders {
		cl := rp.Cells[ds][c]
		s, ok := rp.stat(ds, c)
		if c == cRestoreParse || cl == nil || !ok {
			continue
		}
		sc := serverCPU(cl)
		if sc <= 0 {
			continue
		}
		if least == 0 || sc < least {
			least = sc
		}
		cores = max(cores, sc.Seconds()/s.median.Seconds())
	}
	if least == 0 || cores <= 0 {
		return 0, false
	}
	return time.Duration(float64(least) / max(cores, 1)), true
}

// importThird is a third of the faster mongoimport's wall time: what 3×
// mongoimport's speed means, to set beside the server-bound ceiling.
func (rp *report) importThird(ds string) time.Duration {
	_, imp, _ := rp.fastest(ds, cRestoreImport, cRestoreImportPar)
	return imp.median / 3
}
