package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestScheduleCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewSchedule(reg)
	m.SnapshotTaken("g", "c0")
	m.SnapshotTaken("g", "c0")
	m.SnapshotsMissed("g", "c0", 3)
	m.SnapshotExpired("g", "c1")
	m.AutoExportCreated("g", "c0")
	want := `
# HELP snapex_scheduled_snapshots_taken_total Scheduled snapshots queued by backup schedules.
# TYPE snapex_scheduled_snapshots_taken_total counter
snapex_scheduled_snapshots_taken_total{cluster="c0",group_id="g"} 2
# HELP snapex_scheduled_snapshots_missed_total Schedule slots that passed while no process ran; one catch-up snapshot served them.
# TYPE snapex_scheduled_snapshots_missed_total counter
snapex_scheduled_snapshots_missed_total{cluster="c0",group_id="g"} 3
# HELP snapex_snapshots_expired_total Snapshots deleted at their expiry.
# TYPE snapex_snapshots_expired_total counter
snapex_snapshots_expired_total{cluster="c1",group_id="g"} 1
# HELP snapex_auto_exports_created_total Export jobs created by automatic export.
# TYPE snapex_auto_exports_created_total counter
snapex_auto_exports_created_total{cluster="c0",group_id="g"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
