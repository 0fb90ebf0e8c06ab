package service

import (
	"context"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// Schedule returns a cluster's backup schedule, creating the default one
// (atlas.DefaultSchedule) the first time anyone asks; the default owes no
// snapshot before its creation.
func (s *Service) Schedule(ctx context.Context, cluster atlas.Cluster) (*atlas.Schedule, error) {
	sch, _, err := s.schedule(ctx, cluster)
	return sch, err
}

func (s *Service) schedule(ctx context.Context, cluster atlas.Cluster) (*atlas.Schedule, time.Time, error) {
	sch, last, err := s.Repo.GetSchedule(ctx, cluster.GroupID, cluster.Name)
	if isNotFound(err) {
		now := s.now()
		if err := s.Repo.CreateScheduleIfAbsent(ctx, atlas.DefaultSchedule(cluster, now), now, now); err != nil {
			return nil, time.Time{}, internal("create default backup schedule", err)
		}
		sch, last, err = s.Repo.GetSchedule(ctx, cluster.GroupID, cluster.Name)
	}
	if err != nil {
		return nil, time.Time{}, internal("get backup schedule", err)
	}
	return sch, last, nil
}

// NextSnapshot is when the schedule takes its next snapshot (zero when it
// has no policy items).
func (s *Service) NextSnapshot(sch *atlas.Schedule) time.Time { return sch.NextSnapshot(s.now()) }

// UpdateSchedule applies a PATCH: it validates like Atlas, checks the
// auto-export bucket, stores the result, and re-applies retention to or
// deletes earlier snapshots when updateSnapshots or deleteSnapshots ask.
func (s *Service) UpdateSchedule(ctx context.Context, cluster atlas.Cluster, p atlas.SchedulePatch) (*atlas.Schedule, error) {
	cur, last, err := s.schedule(ctx, cluster)
	if err != nil {
		return nil, err
	}
	now := s.now()
	next, aerr := p.Apply(cur, now)
	if aerr != nil {
		return nil, aerr
	}
	if b := next.AutoExportBucket(); b != "" && b != cur.AutoExportBucket() {
		if _, err := s.GetBucket(ctx, cluster.GroupID, b); err != nil {
			return nil, err
		}
	}
	// A changed policy or reference time owes nothing before the change:
	// without this, a slot that only exists under the new policy and lies
	// between the last snapshot and now would be taken at once.
	if p.Policies != nil || p.ReferenceHourOfDay != nil || p.ReferenceMinuteOfHour != nil {
		last = now
	}
	if err := s.Repo.SaveSchedule(ctx, next, last, now); err != nil {
		return nil, internal("update backup schedule", err)
	}
	s.logger().Info("backup schedule updated", "group", cluster.GroupID, "cluster", cluster.Name,
		"policyItems", len(next.Items), "reference", fmt.Sprintf("%02d:%02d", next.ReferenceHourOfDay, next.ReferenceMinuteOfHour),
		"autoExportBucket", next.AutoExportBucket(), "nextSnapshot", next.NextSnapshot(now))
	if p.UpdateSnapshots {
		if err := s.reapplyRetention(ctx, next); err != nil {
			return nil, err
		}
	}
	if p.DeleteSnapshots && p.Policies != nil {
		if err := s.deleteRemovedItemsSnapshots(ctx, next); err != nil {
			return nil, err
		}
	}
	return next, nil
}

// DeleteSchedule removes every policy item of the cluster's schedule, so
// no further scheduled snapshot is taken; the rest of the schedule (the
// reference time, the export policy) stays, and earlier snapshots keep
// their expiry.
func (s *Service) DeleteSchedule(ctx context.Context, cluster atlas.Cluster) (*atlas.Schedule, error) {
	empty := []atlas.PolicyPatch{}
	return s.UpdateSchedule(ctx, cluster, atlas.SchedulePatch{Policies: &empty})
}

// reapplyRetention sets every completed scheduled snapshot's expiry from
// the current retention of the policy items it serves; snapshots whose
// items are all gone keep theirs.
func (s *Service) reapplyRetention(ctx context.Context, sch *atlas.Schedule) error {
	snaps, err := s.Repo.ScheduledSnapshotsOf(ctx, sch.GroupID, sch.ClusterName)
	if err != nil {
		return internal("re-apply retention", err)
	}
	for id, m := range snaps {
		items := itemsOf(sch, m.PolicyItems)
		if len(items) == 0 {
			continue
		}
		sn, err := s.Repo.UpdateSnapshot(ctx, id, func(x *atlas.Snapshot) error {
			if x.Status == atlas.SnapshotCompleted {
				x.ExpiresAt = atlas.LongestRetention(x.CreatedAt, items).Truncate(time.Second)
			}
			return nil
		})
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return internal("re-apply retention", err)
		}
		s.logger().Info("scheduled snapshot retention re-applied", "snapshot", id, "cluster", sch.ClusterName, "expiresAt", sn.ExpiresAt)
	}
	return nil
}

// deleteRemovedItemsSnapshots deletes finished scheduled snapshots none of
// whose policy items remain in the schedule.
func (s *Service) deleteRemovedItemsSnapshots(ctx context.Context, sch *atlas.Schedule) error {
	snaps, err := s.Repo.ScheduledSnapshotsOf(ctx, sch.GroupID, sch.ClusterName)
	if err != nil {
		return internal("delete snapshots of removed policy items", err)
	}
	for id, m := range snaps {
		if len(itemsOf(sch, m.PolicyItems)) > 0 {
			continue
		}
		sn, err := s.Repo.GetSnapshot(ctx, sch.GroupID, sch.ClusterName, id)
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return internal("delete snapshots of removed policy items", err)
		}
		if sn.Status != atlas.SnapshotCompleted && sn.Status != atlas.SnapshotFailed {
			continue // an unfinished one expires by its retention instead
		}
		if err := s.DeleteSnapshot(ctx, sch.GroupID, sch.ClusterName, sn.Kind, id); err != nil {
			if atlas.HasCode(err, atlas.CodeSnapshotNotFound) {
				continue // deleted meanwhile
			}
			return err
		}
		s.logger().Info("scheduled snapshot deleted with its policy items", "snapshot", id, "cluster", sch.ClusterName)
	}
	return nil
}

// itemsOf returns the schedule's items among ids.
func itemsOf(sch *atlas.Schedule, ids []string) []atlas.PolicyItem {
	var out []atlas.PolicyItem
	for _, id := range ids {
		if it, ok := sch.Item(id); ok {
			out = append(out, it)
		}
	}
	return out
}

// fillPolicyItems sets the policy item ids of scheduled snapshots.
func (s *Service) fillPolicyItems(ctx context.Context, list ...*atlas.Snapshot) error {
	ids := make([]string, 0, len(list))
	for _, sn := range list {
		ids = append(ids, sn.ID)
	}
	m, err := s.Repo.SnapshotPolicyItems(ctx, ids)
	if err != nil {
		return internal("snapshot policy items", err)
	}
	for _, sn := range list {
		sn.PolicyItems = m[sn.ID]
	}
	return nil
}

// prefixer returns how export prefixes of the cluster are built: with the
// organization and project names when its schedule sets
// useOrgAndGroupNamesInExportPrefix (for manual and automatic exports
// alike), with their ids otherwise.
func (s *Service) prefixer(ctx context.Context, project atlas.Project, cluster atlas.Cluster) func(snapshotCreated, jobCreated time.Time) string {
	useNames := false
	if sch, _, err := s.Repo.GetSchedule(ctx, project.ID, cluster.Name); err == nil {
		useNames = sch.UseOrgAndGroupNamesInExportPrefix
	} else if !isNotFound(err) {
		s.logger().Warn("read backup schedule for the export prefix; using ids", "cluster", cluster.Name, "err", err)
	}
	org, _ := s.Catalog.Organization(project.OrgID)
	return func(snapshotCreated, jobCreated time.Time) string {
		return atlas.ExportPrefixFor(useNames, org, project, cluster.Name, snapshotCreated, jobCreated)
	}
}
