package main

import (
	"fmt"
	"strings"
)

// latencyTargets writes issue 19's rows for every -latency: on tiny,
// snapex against the PUT-only floor and against rclone at the same
// latency; on the large datasets, snapex at the latency against snapex
// on loopback.
func (rp *report) latencyTargets(w func(string, ...any), met func(bool) string) {
	for _, lat := range rp.Latencies {
		sx := atLatency(cSnapexS3, lat)
		if a, ok := rp.stat(dsTiny, sx); ok {
			if f, ok := rp.stat(dsTiny, atLatency(cFilesS3, lat)); ok {
				r := f.median.Seconds() / a.median.Seconds()
				w("| snapex-S3 ÷ PUT-only floor (%d in flight), + %s per request | `%s` | %.0f %% | | ≥ 80 %% | %s |\n", latencyWorkers, lat, dsTiny, 100*r, met(r >= 0.8))
			}
			if u, ok := rp.stat(dsTiny, atLatency(cRclone, lat)); ok {
				r := u.median.Seconds() / a.median.Seconds()
				w("| snapex-S3 ÷ `rclone copy` of the ready files, + %s per request | `%s` | %.2f× | | ≥ 1× | %s |\n", lat, dsTiny, r, met(r >= 1))
			}
		}
		for _, ds := range rp.Datasets {
			if ds == dsTiny {
				continue
			}
			a, ok1 := rp.stat(ds, sx)
			b, ok2 := rp.stat(ds, cSnapexS3)
			if !ok1 || !ok2 {
				continue
			}
			r := b.median.Seconds() / a.median.Seconds()
			w("| snapex-S3 + %s per request ÷ snapex-S3 on loopback | `%s` | %.0f %% | | ≥ 75 %% | %s |\n", lat, ds, 100*r, met(r >= 0.75))
		}
	}
}

// latencyNote describes the latency contenders for the table's notes.
func (rp *report) latencyNote() string {
	if len(rp.Latencies) == 0 {
		return ""
	}
	return fmt.Sprintf("- **at a latency** (%s): a delay proxy in the harness (bench/delay.go) holds every request for that long before forwarding it to versitygw, like a store in the same region (~20 ms) or another one (~50 ms); bandwidth is not limited. snapex uses an access role whose endpoint is the proxy. The PUT-only floor PUTs the export's prepared objects %d at a time (the most small collections snapex keeps in flight); rclone (`rclone copy --transfers %d --checkers %d --no-traverse --no-check-dest`, configured by environment variables) uploads the same objects written to disk beforehand (untimed), measured in a child process of the harness (peak RSS includes that small process's, a few MiB).\n",
		strings.Join(rp.Latencies, ", "), latencyWorkers, latencyWorkers, latencyWorkers)
}
