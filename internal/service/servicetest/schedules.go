package servicetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// storedSchedule is a schedule and the last slot it served.
type storedSchedule struct {
	sch  *atlas.Schedule
	last time.Time
}

// scheduledFacts is what a scheduled snapshot records, and whether its
// automatic export is settled (created or dropped).
type scheduledFacts struct {
	meta    atlas.ScheduledSnapshot
	settled bool
}

func cloneSchedule(s *atlas.Schedule) *atlas.Schedule {
	c := *s
	c.Items = slices.Clone(s.Items)
	if s.Export != nil {
		e := *s.Export
		c.Export = &e
	}
	return &c
}

func cloneFacts(m atlas.ScheduledSnapshot) atlas.ScheduledSnapshot {
	m.PolicyItems = slices.Clone(m.PolicyItems)
	return m
}

// schedulesUsing names the clusters whose auto export writes into the
// bucket; r.mu is held.
func (r *Repo) schedulesUsing(bucketID string) []string {
	var names []string
	for key, s := range r.schedules {
		if s.sch.AutoExportBucket() == bucketID {
			names = append(names, key[1])
		}
	}
	sort.Strings(names)
	return names
}

// GetSchedule implements service.Schedules.
func (r *Repo) GetSchedule(_ context.Context, groupID, cluster string) (*atlas.Schedule, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, time.Time{}, r.Fail
	}
	s, ok := r.schedules[[2]string{groupID, cluster}]
	if !ok {
		return nil, time.Time{}, notFound("backup schedule of", cluster)
	}
	return cloneSchedule(s.sch), s.last, nil
}

// CreateScheduleIfAbsent implements service.Schedules.
func (r *Repo) CreateScheduleIfAbsent(_ context.Context, sch *atlas.Schedule, lastSlot, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	key := [2]string{sch.GroupID, sch.ClusterName}
	if _, ok := r.schedules[key]; ok {
		return nil
	}
	if r.schedules == nil {
		r.schedules = map[[2]string]*storedSchedule{}
	}
	r.schedules[key] = &storedSchedule{sch: cloneSchedule(sch), last: lastSlot}
	return nil
}

// SaveSchedule implements service.Schedules: the last slot never moves back.
func (r *Repo) SaveSchedule(_ context.Context, sch *atlas.Schedule, lastSlot, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	s, ok := r.schedules[[2]string{sch.GroupID, sch.ClusterName}]
	if !ok {
		return notFound("backup schedule of", sch.ClusterName)
	}
	s.sch = cloneSchedule(sch)
	if lastSlot.After(s.last) {
		s.last = lastSlot
	}
	return nil
}

// CreateScheduledSnapshot implements service.Schedules: the slot is taken
// only from the last slot the caller read, and once.
func (r *Repo) CreateScheduledSnapshot(_ context.Context, sn *atlas.Snapshot, meta atlas.ScheduledSnapshot, prevSlot time.Time, _ int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	s, ok := r.schedules[[2]string{sn.GroupID, sn.ClusterName}]
	if !ok || !s.last.Equal(prevSlot) {
		return fmt.Errorf("create scheduled snapshot of %s: %w", sn.ClusterName, atlas.SlotTaken)
	}
	s.last = meta.ScheduledFor
	r.snapshots = append(r.snapshots, clone(sn))
	if r.scheduled == nil {
		r.scheduled = map[string]*scheduledFacts{}
	}
	r.scheduled[sn.ID] = &scheduledFacts{meta: cloneFacts(meta)}
	return nil
}

// SnapshotByID implements service.Schedules (the fake keeps no retention).
func (r *Repo) SnapshotByID(_ context.Context, id string) (*atlas.Snapshot, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, 0, r.Fail
	}
	if i := r.snapshotIndex(id); i >= 0 {
		return clone(r.snapshots[i]), 0, nil
	}
	return nil, 0, notFound("snapshot", id)
}

// ScheduledSnapshotOf implements service.Schedules.
func (r *Repo) ScheduledSnapshotOf(_ context.Context, id string) (atlas.ScheduledSnapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return atlas.ScheduledSnapshot{}, r.Fail
	}
	if r.snapshotIndex(id) < 0 {
		return atlas.ScheduledSnapshot{}, notFound("snapshot", id)
	}
	if f, ok := r.scheduled[id]; ok {
		return cloneFacts(f.meta), nil
	}
	return atlas.ScheduledSnapshot{}, nil
}

// ScheduledSnapshotsOf implements service.Schedules.
func (r *Repo) ScheduledSnapshotsOf(_ context.Context, groupID, cluster string) (map[string]atlas.ScheduledSnapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	out := map[string]atlas.ScheduledSnapshot{}
	for _, sn := range r.snapshots {
		if f, ok := r.scheduled[sn.ID]; ok && sn.GroupID == groupID && sn.ClusterName == cluster {
			out[sn.ID] = cloneFacts(f.meta)
		}
	}
	return out, nil
}

// SnapshotPolicyItems implements service.Schedules.
func (r *Repo) SnapshotPolicyItems(_ context.Context, ids []string) (map[string][]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	out := map[string][]string{}
	for _, id := range ids {
		if f, ok := r.scheduled[id]; ok {
			out[id] = slices.Clone(f.meta.PolicyItems)
		}
	}
	return out, nil
}

// PendingAutoExports implements service.Schedules.
func (r *Repo) PendingAutoExports(_ context.Context) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	var ids []string
	for _, sn := range r.snapshots {
		if f, ok := r.scheduled[sn.ID]; ok && !f.settled && f.meta.AutoExportBucket != "" && sn.Status == atlas.SnapshotCompleted {
			ids = append(ids, sn.ID)
		}
	}
	sort.Strings(ids)
	return ids, nil
}

// CreateAutoExportJob implements service.Schedules: the job is stored and
// the automatic export settled together, once.
func (r *Repo) CreateAutoExportJob(_ context.Context, j *atlas.ExportJob) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	f, ok := r.scheduled[j.SnapshotID]
	if ok && f.settled {
		return fmt.Errorf("create export job %s: %w", j.ID, atlas.AutoExportTaken)
	}
	if err := r.createExportJob(j); err != nil {
		return err
	}
	if ok {
		f.settled = true
	}
	return nil
}

// DropAutoExport implements service.Schedules.
func (r *Repo) DropAutoExport(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	if f, ok := r.scheduled[id]; ok {
		f.settled = true
	}
	return nil
}
