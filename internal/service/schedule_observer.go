package service

// ScheduleObserver counts what scheduling does, per cluster (the metrics
// adapter implements it; nil observes nothing).
type ScheduleObserver interface {
	// SnapshotTaken counts a scheduled snapshot queued.
	SnapshotTaken(groupID, cluster string)
	// SnapshotsMissed counts slots that passed without their own snapshot
	// (every process was down) and were served by one catch-up snapshot.
	SnapshotsMissed(groupID, cluster string, n int)
	// SnapshotExpired counts a snapshot deleted at its expiry.
	SnapshotExpired(groupID, cluster string)
	// AutoExportCreated counts an export job created by auto export.
	AutoExportCreated(groupID, cluster string)
}

type nopObserver struct{}

func (nopObserver) SnapshotTaken(string, string)        {}
func (nopObserver) SnapshotsMissed(string, string, int) {}
func (nopObserver) SnapshotExpired(string, string)      {}
func (nopObserver) AutoExportCreated(string, string)    {}

func (s *Service) observer() ScheduleObserver {
	if s.Observer != nil {
		return s.Observer
	}
	return nopObserver{}
}
