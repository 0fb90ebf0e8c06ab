package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Schedule counts what backup schedules do, per cluster; it implements
// service.ScheduleObserver.
type Schedule struct {
	taken, missed, expired, autoExports *prometheus.CounterVec
}

// NewSchedule registers the schedule counters on reg.
func NewSchedule(reg prometheus.Registerer) *Schedule {
	vec := func(name, help string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "snapex", Name: name, Help: help}, []string{"group_id", "cluster"})
		reg.MustRegister(c)
		return c
	}
	return &Schedule{
		taken:       vec("scheduled_snapshots_taken_total", "Scheduled snapshots queued by backup schedules."),
		missed:      vec("scheduled_snapshots_missed_total", "Schedule slots that passed while no process ran; one catch-up snapshot served them."),
		expired:     vec("snapshots_expired_total", "Snapshots deleted at their expiry."),
		autoExports: vec("auto_exports_created_total", "Export jobs created by automatic export."),
	}
}

// SnapshotTaken implements service.ScheduleObserver.
func (m *Schedule) SnapshotTaken(groupID, cluster string) {
	m.taken.WithLabelValues(groupID, cluster).Inc()
}

// SnapshotsMissed implements service.ScheduleObserver.
func (m *Schedule) SnapshotsMissed(groupID, cluster string, n int) {
	m.missed.WithLabelValues(groupID, cluster).Add(float64(n))
}

// SnapshotExpired implements service.ScheduleObserver.
func (m *Schedule) SnapshotExpired(groupID, cluster string) {
	m.expired.WithLabelValues(groupID, cluster).Inc()
}

// AutoExportCreated implements service.ScheduleObserver.
func (m *Schedule) AutoExportCreated(groupID, cluster string) {
	m.autoExports.WithLabelValues(groupID, cluster).Inc()
}
