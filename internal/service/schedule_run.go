package service

import (
	"context"
	"errors"
	"math"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// RunSchedules is one scheduling pass at the current time: every
// configured cluster whose schedule owes a slot gets one queued scheduled
// snapshot, and completed scheduled snapshots whose automatic export is
// still owed get their export job. It is safe to run on several processes
// at once (the store lets one of them have each slot and each automatic
// export); the queue runs it on its elected leader only.
func (s *Service) RunSchedules(ctx context.Context) error {
	now := s.now()
	var firstErr error
	for _, c := range s.Catalog.AllClusters() {
		if err := s.runSchedule(ctx, c, now); err != nil {
			s.logger().Error("scheduling pass failed for cluster", "group", c.GroupID, "cluster", c.Name, "err", err)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if err := s.runPendingAutoExports(ctx); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

// runSchedule queues the cluster's owed snapshot, if any.
func (s *Service) runSchedule(ctx context.Context, cluster atlas.Cluster, now time.Time) error {
	sch, last, err := s.schedule(ctx, cluster)
	if err != nil {
		return err
	}
	slot, items, missed := sch.Due(last, now)
	if slot.IsZero() {
		return nil
	}
	label := atlas.SnapshotLabel(items)
	meta := atlas.ScheduledSnapshot{ScheduledFor: slot}
	for _, it := range items {
		meta.PolicyItems = append(meta.PolicyItems, it.ID)
	}
	if sch.AutoExportEnabled && sch.Export != nil && atlas.AutoExports(label, sch.Export.FrequencyType) {
		meta.AutoExportBucket = sch.Export.ExportBucketID
		meta.AutoExportOptions = sch.Export.SnapexOptions
	}
	expires := atlas.LongestRetention(slot, items)
	sn := &atlas.Snapshot{
		ID: atlas.NewObjectID(now), GroupID: cluster.GroupID, ClusterName: cluster.Name, Status: atlas.SnapshotQueued,
		SnapshotType: "scheduled", FrequencyType: string(label), CreatedAt: now.Truncate(time.Second),
		ExpiresAt: expires, PolicyItems: meta.PolicyItems,
	}
	fillKind(sn, cluster, now)
	// The taker's own expiry is days after completion; the completion hook
	// replaces it with the calendar retention, this is the fallback.
	days := int(math.Ceil(expires.Sub(slot).Hours() / 24))
	err = s.Repo.CreateScheduledSnapshot(ctx, sn, meta, last, days)
	if errors.Is(err, atlas.SlotTaken) {
		s.logger().Info("scheduled slot already taken by another process", "group", cluster.GroupID, "cluster", cluster.Name, "slot", slot)
		return nil
	}
	if err != nil {
		return internal("queue scheduled snapshot", err)
	}
	s.observer().SnapshotTaken(cluster.GroupID, cluster.Name)
	if missed > 0 {
		s.observer().SnapshotsMissed(cluster.GroupID, cluster.Name, missed)
	}
	s.logger().Info("scheduled snapshot queued", "group", cluster.GroupID, "cluster", cluster.Name, "snapshot", sn.ID,
		"slot", slot, "frequencyType", label, "policyItems", meta.PolicyItems, "expiresAt", expires,
		"missedSlots", missed, "autoExportBucket", meta.AutoExportBucket)
	return nil
}

// fillKind sets the snapshot's kind and members from the cluster.
func fillKind(sn *atlas.Snapshot, cluster atlas.Cluster, now time.Time) {
	if cluster.Type == atlas.ShardedCluster {
		sn.Kind = atlas.ShardedClusterSnapshot
		for _, rs := range cluster.ReplicaSets {
			sn.Members = append(sn.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(now), ReplicaSetName: rs.Name})
		}
		return
	}
	sn.Kind, sn.ReplicaSetName = atlas.ReplicaSetSnapshot, cluster.ReplicaSets[0].Name
}

// SnapshotCompleted is the hook the snapshot taker calls after a snapshot
// completes: a scheduled snapshot gets its expiry from the calendar
// retention of its policy items, and its automatic export job when one is
// owed. A lost call is made up by the next scheduling pass.
func (s *Service) SnapshotCompleted(ctx context.Context, id string) error {
	meta, err := s.Repo.ScheduledSnapshotOf(ctx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return internal("completed snapshot", err)
	}
	if meta.ScheduledFor.IsZero() {
		return nil
	}
	sn, _, err := s.Repo.SnapshotByID(ctx, id)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return internal("completed snapshot", err)
	}
	if sch, _, err := s.Repo.GetSchedule(ctx, sn.GroupID, sn.ClusterName); err == nil {
		if items := itemsOf(sch, meta.PolicyItems); len(items) > 0 && sn.Status == atlas.SnapshotCompleted {
			if _, err := s.Repo.UpdateSnapshot(ctx, id, func(x *atlas.Snapshot) error {
				x.ExpiresAt = atlas.LongestRetention(x.CreatedAt, items).Truncate(time.Second)
				return nil
			}); err != nil && !isNotFound(err) {
				return internal("scheduled snapshot retention", err)
			}
		}
	}
	return s.autoExport(ctx, sn, meta)
}

// runPendingAutoExports creates the automatic exports still owed.
func (s *Service) runPendingAutoExports(ctx context.Context) error {
	ids, err := s.Repo.PendingAutoExports(ctx)
	if err != nil {
		return internal("pending automatic exports", err)
	}
	for _, id := range ids {
		if err := s.SnapshotCompleted(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// autoExport creates the snapshot's automatic export job once.
func (s *Service) autoExport(ctx context.Context, sn *atlas.Snapshot, meta atlas.ScheduledSnapshot) error {
	if meta.AutoExportBucket == "" || sn.Status != atlas.SnapshotCompleted {
		return nil
	}
	project, okP := s.Catalog.Project(sn.GroupID)
	cluster, okC := s.Catalog.Cluster(sn.GroupID, sn.ClusterName)
	if !okP || !okC {
		s.logger().Warn("automatic export dropped: cluster no longer configured", "snapshot", sn.ID, "cluster", sn.ClusterName)
		return s.dropAutoExport(ctx, sn.ID)
	}
	job, err := s.createExportJob(ctx, project, cluster, ExportInput{SnapshotID: sn.ID, ExportBucketID: meta.AutoExportBucket,
		CustomData: []atlas.Label{}, Options: meta.AutoExportOptions}, true)
	if errors.Is(err, atlas.AutoExportTaken) {
		return nil
	}
	var ae *atlas.Error
	if errors.As(err, &ae) {
		if atlas.HasCode(err, atlas.CodeExportBucketNotFound) || atlas.HasCode(err, atlas.CodeSnapshotNotFound) {
			s.logger().Warn("automatic export dropped: its bucket or snapshot is gone", "snapshot", sn.ID, "cluster", sn.ClusterName, "bucket", meta.AutoExportBucket)
			return s.dropAutoExport(ctx, sn.ID)
		}
		// A manual export of the snapshot is running; the next pass retries.
		s.logger().Info("automatic export postponed", "snapshot", sn.ID, "cluster", sn.ClusterName, "reason", ae.Detail)
		return nil
	}
	if err != nil {
		return err
	}
	s.observer().AutoExportCreated(sn.GroupID, sn.ClusterName)
	s.logger().Info("automatic export created", "snapshot", sn.ID, "cluster", sn.ClusterName, "exportJob", job.ID,
		"bucket", meta.AutoExportBucket, "prefix", job.Prefix, "frequencyType", sn.FrequencyType)
	return nil
}

func (s *Service) dropAutoExport(ctx context.Context, id string) error {
	if err := s.Repo.DropAutoExport(ctx, id); err != nil {
		return internal("drop automatic export", err)
	}
	return nil
}
