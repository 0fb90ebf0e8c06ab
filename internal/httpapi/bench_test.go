package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// BenchmarkGetExportJob measures GET …/backup/exports/{id} on the embedded
// store holding 100,000 jobs, with a bearer token (one round trip per
// request, as a service-account client makes). Reports requests/s and the
// p50/p99 latency.
func BenchmarkGetExportJob(b *testing.B) {
	e := newEnv(b, "sqlite")
	ids := seedJobs(b, e, 100_000)
	token := bearerToken(b, e)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	base := e.url + groupPath(groupP1) + "/clusters/Cluster0/backup/exports/"
	var mu sync.Mutex
	var lat []time.Duration
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		local := make([]time.Duration, 0, 1024)
		for pb.Next() {
			req, _ := http.NewRequest("GET", base+ids[rand.IntN(len(ids))], nil)
			req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
			req.Header.Set("Authorization", "Bearer "+token)
			t0 := time.Now()
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			local = append(local, time.Since(t0))
			if resp.StatusCode != 200 {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
		mu.Lock()
		lat = append(lat, local...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) > 0 {
		b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "req/s")
		b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
		b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
	}
}

// seedJobs bulk-inserts n finished export jobs in one transaction.
func seedJobs(b *testing.B, e *env, n int) []string {
	b.Helper()
	ctx := context.Background()
	tx, err := e.store.DB().BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO export_jobs (id, group_id, cluster_name, snapshot_id, export_bucket_id, state, prefix, created_at, finished_at) VALUES (?, ?, 'Cluster0', ?, ?, 'Successful', ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, n)
	now := time.Now()
	for i := range ids {
		ids[i] = atlas.NewObjectID(now)
		if _, err := stmt.ExecContext(ctx, ids[i], groupP1, atlas.NewObjectID(now), "6b0000000000000000000001",
			"exported_snapshots/x/"+ids[i], now.UnixMilli(), now.UnixMilli()); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return ids
}

func bearerToken(b testing.TB, e *env) string {
	b.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	req, _ := http.NewRequest("POST", e.url+"/api/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(benchSA, benchSASecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		b.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[int(float64(len(d)-1)*p)]
}
