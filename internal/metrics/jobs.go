// Package metrics holds snapex's Prometheus metrics beyond HTTP: what the
// job runner does with export and snapshot jobs, a census of the jobs in
// the store read at scrape time, and the backup schedule's decisions.
package metrics

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/store"
)

// Jobs are the job metrics. It is a jobs.Observer; the export engine and
// the snapshot taker report what they move through Moved.
type Jobs struct {
	attempts  *prometheus.CounterVec
	failures  *prometheus.CounterVec
	ended     *prometheus.CounterVec
	attemptD  *prometheus.HistogramVec
	jobD      *prometheus.HistogramVec
	documents *prometheus.CounterVec
	bytes     *prometheus.CounterVec
}

// durationBuckets span a one-second job to a day-long one.
var durationBuckets = prometheus.ExponentialBuckets(0.5, 2, 18)

// NewJobs registers the job metrics with reg, and a collector that counts
// the jobs in st by state at every scrape (queue depth and the age of the
// oldest queued job among them).
func NewJobs(reg prometheus.Registerer, st *store.Store, log *slog.Logger) *Jobs {
	m := &Jobs{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapex_job_attempts_total", Help: "Job attempts started, by kind (export, snapshot).",
		}, []string{"kind"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapex_job_attempt_failures_total", Help: "Failed job attempts by kind, error code and whether the failure ended the job (final) or is retried.",
		}, []string{"kind", "code", "final"}),
		ended: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapex_jobs_ended_total", Help: "Jobs this process ended, by kind and outcome (succeeded, failed, cancelled).",
		}, []string{"kind", "outcome"}),
		attemptD: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "snapex_job_attempt_duration_seconds", Help: "Duration of failed job attempts, by kind.",
			Buckets: durationBuckets,
		}, []string{"kind"}),
		jobD: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "snapex_job_duration_seconds", Help: "How long this process worked a job until it ended (attempts and waits between them), by kind and outcome.",
			Buckets: durationBuckets,
		}, []string{"kind", "outcome"}),
		documents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapex_job_documents_total", Help: "Documents moved: exported to buckets (export) or captured from clusters (snapshot).",
		}, []string{"kind"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "snapex_job_bson_bytes_total", Help: "BSON bytes moved: exported to buckets (export) or captured from clusters (snapshot).",
		}, []string{"kind"}),
	}
	reg.MustRegister(m.attempts, m.failures, m.ended, m.attemptD, m.jobD, m.documents, m.bytes)
	if st != nil {
		reg.MustRegister(&census{st: st, log: log})
	}
	return m
}

// AttemptStarted implements jobs.Observer.
func (m *Jobs) AttemptStarted(kind, _ string, _ int) { m.attempts.WithLabelValues(kind).Inc() }

// AttemptFailed implements jobs.Observer.
func (m *Jobs) AttemptFailed(kind, _ string, _ int, code string, final bool, took time.Duration) {
	f := "false"
	if final {
		f = "true"
	}
	m.failures.WithLabelValues(kind, code, f).Inc()
	m.attemptD.WithLabelValues(kind).Observe(took.Seconds())
}

// JobEnded implements jobs.Observer.
func (m *Jobs) JobEnded(kind, _ string, outcome jobs.Outcome, took time.Duration) {
	m.ended.WithLabelValues(kind, string(outcome)).Inc()
	m.jobD.WithLabelValues(kind, string(outcome)).Observe(took.Seconds())
}

// Moved counts documents and BSON bytes a job of kind moved.
func (m *Jobs) Moved(kind string, docs, bytes int64) {
	if docs > 0 {
		m.documents.WithLabelValues(kind).Add(float64(docs))
	}
	if bytes > 0 {
		m.bytes.WithLabelValues(kind).Add(float64(bytes))
	}
}

// census counts jobs in the store at scrape time.
type census struct {
	st  *store.Store
	log *slog.Logger
}

var (
	byStateDesc = prometheus.NewDesc("snapex_jobs", "Jobs in the store by kind and state (export: Queued, InProgress, Successful, Failed, Cancelled; snapshot: queued, inProgress, completed, failed).",
		[]string{"kind", "state"}, nil)
	queuedDesc = prometheus.NewDesc("snapex_job_queue_depth", "Jobs waiting for a worker, by kind.", []string{"kind"}, nil)
	oldestDesc = prometheus.NewDesc("snapex_job_oldest_queued_age_seconds", "Age of the oldest job waiting for a worker (0 when none), by kind.", []string{"kind"}, nil)
)

// knownStates are the states of each kind, as the API spells them.
var knownStates = map[string][]string{
	store.ExportJobs.Name: {string(atlas.ExportQueued), string(atlas.ExportInProgress), string(atlas.ExportSuccessful),
		string(atlas.ExportFailed), string(atlas.ExportCancelled)},
	store.SnapshotJobs.Name: {string(atlas.SnapshotQueued), string(atlas.SnapshotInProgress), string(atlas.SnapshotCompleted),
		string(atlas.SnapshotFailed)},
}

// censusTimeout bounds the store queries of one scrape.
const censusTimeout = 5 * time.Second

func (c *census) Describe(ch chan<- *prometheus.Desc) {
	ch <- byStateDesc
	ch <- queuedDesc
	ch <- oldestDesc
}

func (c *census) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), censusTimeout)
	defer cancel()
	for _, k := range []store.JobKind{store.ExportJobs, store.SnapshotJobs} {
		st, err := c.st.JobStats(ctx, k)
		if err != nil {
			// A scrape without the census beats a failed scrape.
			if c.log != nil {
				c.log.Warn("job census for metrics", "kind", k.Name, "err", err)
			}
			continue
		}
		// Every known state is reported, 0 when no job is in it, so a
		// dashboard shows a line that drops to zero rather than a gap.
		counts := map[string]int{}
		for _, s := range knownStates[k.Name] {
			counts[s] = 0
		}
		for state, n := range st.ByState {
			counts[state] = n
		}
		for state, n := range counts {
			ch <- prometheus.MustNewConstMetric(byStateDesc, prometheus.GaugeValue, float64(n), k.Name, state)
		}
		ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(st.Queued), k.Name)
		age := 0.0
		if !st.OldestQueued.IsZero() {
			age = max(time.Since(st.OldestQueued).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age, k.Name)
	}
}
