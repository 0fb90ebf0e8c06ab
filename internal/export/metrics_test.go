package export_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/metrics"
	"github.com/snapex/snapex/internal/snapshot"
)

// TestMetricsCountExportsThatSucceedFailAndRetry runs an export that
// succeeds, one whose first attempt fails on a snapshot-storage hiccup and
// whose retry succeeds, and one that fails for good (its access role is
// gone), leaves one queued, then scrapes /metrics and finds each count.
func TestMetricsCountExportsThatSucceedFailAndRetry(t *testing.T) {
	const orders = 700
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": orders})
	reg := prometheus.NewRegistry()
	m := metrics.NewJobs(reg, f.store, nil)
	e := f.engine("w1")
	e.Runner.Observer = m
	e.Moved = func(docs, bytes int64) { m.Moved("export", docs, bytes) }
	ctx := context.Background()

	ok := f.newJob()
	if _, err := e.Runner.Run(ctx, e.Kind(), ok.ID); err != nil {
		t.Fatal(err)
	}
	flaky := &flakyStorage{Storage: f.snaps}
	flaky.failures.Store(1)
	e.Snapshots = flaky
	retried := f.newJob()
	if _, err := e.Runner.Run(ctx, e.Kind(), retried.ID); err != nil {
		t.Fatal(err)
	}
	e.Snapshots = f.snaps
	gone := &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: "orphan", CloudProvider: atlas.AWS,
		RoleID: "c0000000000000000000000f", CreatedAt: time.Now()}
	if err := f.store.CreateBucket(ctx, gone); err != nil {
		t.Fatal(err)
	}
	f.bucket = gone
	failed := f.newJob()
	if _, err := e.Runner.Run(ctx, e.Kind(), failed.ID); err != nil {
		t.Fatal(err)
	}
	f.newJob() // stays queued
	for id, want := range map[string]atlas.ExportState{ok.ID: atlas.ExportSuccessful, retried.ID: atlas.ExportSuccessful, failed.ID: atlas.ExportFailed} {
		if got := f.job(id); got.State != want {
			t.Fatalf("job %s is %s (%+v), want %s", id, got.State, got.StateReason, want)
		}
	}
	if a := f.job(retried.ID).Attempts; a.Count != 2 || !strings.Contains(a.LastError, "storage hiccup") {
		t.Fatalf("retried job's attempts: %+v", a)
	}

	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	scraped := string(body)
	for _, want := range []string{
		`snapex_job_attempts_total{kind="export"} 4`,
		`snapex_job_attempt_failures_total{code="EXPORT_FAILED",final="false",kind="export"} 1`,
		`snapex_job_attempt_failures_total{code="EXPORT_BUCKET_ACCESS_DENIED",final="true",kind="export"} 1`,
		`snapex_jobs_ended_total{kind="export",outcome="succeeded"} 2`,
		`snapex_jobs_ended_total{kind="export",outcome="failed"} 1`,
		`snapex_job_duration_seconds_count{kind="export",outcome="succeeded"} 2`,
		`snapex_job_attempt_duration_seconds_count{kind="export"} 2`,
		`snapex_job_documents_total{kind="export"} 1400`,
		`snapex_jobs{kind="export",state="Successful"} 2`,
		`snapex_jobs{kind="export",state="Failed"} 1`,
		`snapex_jobs{kind="export",state="Queued"} 1`,
		`snapex_job_queue_depth{kind="export"} 1`,
		`snapex_job_queue_depth{kind="snapshot"} 0`,
	} {
		if !strings.Contains(scraped, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !strings.Contains(scraped, `snapex_job_bson_bytes_total{kind="export"} `) || !strings.Contains(scraped, `snapex_job_oldest_queued_age_seconds{kind="export"} `) {
		t.Errorf("/metrics lacks the bytes moved or the oldest queued job's age:\n%s", scraped)
	}
	if t.Failed() {
		t.Logf("scraped:\n%s", grep(scraped, "snapex_job"))
	}
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// flakyStorage fails the first opens of collection data files with a
// plain error, as a storage hiccup would.
type flakyStorage struct {
	snapshot.Storage
	failures atomic.Int64
}

func (s *flakyStorage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.Contains(key, ".bson") && s.failures.Add(-1) >= 0 {
		return nil, errors.New("snapshot storage hiccup")
	}
	return s.Storage.Open(ctx, key)
}
