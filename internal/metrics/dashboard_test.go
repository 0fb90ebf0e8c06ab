package metrics_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/snapex/snapex/internal/httpapi"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/metrics"
	"github.com/snapex/snapex/internal/store"
)

// TestDashboardQueriesExistingMetrics: every snapex metric the example
// Grafana dashboard queries is one snapex exports.
func TestDashboardQueriesExistingMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "snapex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	reg := prometheus.NewRegistry()
	m := metrics.NewJobs(reg, st, nil)
	// Vectors show up once they have a child.
	m.AttemptStarted("export", "j", 1)
	m.AttemptFailed("export", "j", 1, "EXPORT_FAILED", false, time.Second)
	m.JobEnded("export", "j", jobs.Succeeded, time.Second)
	m.Moved("export", 1, 1)
	h := httpapi.Instrument(http.NotFoundHandler(), slog.New(slog.NewTextHandler(io.Discard, nil)), httpapi.NewMetrics(reg))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range families {
		have[f.GetName()] = true
	}

	raw, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("docs/grafana-dashboard.json: %v", err)
	}
	name := regexp.MustCompile(`snapex_[a-z_]+`)
	queried := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, n := range name.FindAllString(tg.Expr, -1) {
				queried++
				base := n
				for _, suffix := range []string{"_bucket", "_count", "_sum"} {
					if b, ok := strings.CutSuffix(n, suffix); ok && have[b] {
						base = b
					}
				}
				if !have[base] {
					t.Errorf("panel %q queries %s, which snapex does not export", p.Title, n)
				}
			}
		}
	}
	if queried < 10 {
		t.Fatalf("the dashboard queries only %d snapex metrics", queried)
	}
}
