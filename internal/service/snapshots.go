package service

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
)

// GetSnapshot returns one snapshot of the given kind.
func (s *Service) GetSnapshot(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, id string) (*atlas.Snapshot, error) {
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidSnapshotID(id)
	}
	sn, err := s.Repo.GetSnapshot(ctx, groupID, cluster, id)
	if isNotFound(err) || (err == nil && sn.Kind != kind) {
		return nil, atlas.ErrSnapshotNotFound(id, cluster)
	}
	if err != nil {
		return nil, internal("get snapshot", err)
	}
	if err := s.fillPolicyItems(ctx, sn); err != nil {
		return nil, err
	}
	return sn, nil
}

// ListSnapshots returns a page of a cluster's snapshots of one kind.
func (s *Service) ListSnapshots(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, p atlas.Page) ([]*atlas.Snapshot, int, error) {
	out, total, err := s.Repo.ListSnapshots(ctx, groupID, cluster, kind, p)
	if err != nil {
		return nil, 0, internal("list snapshots", err)
	}
	if err := s.fillPolicyItems(ctx, out...); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// DeleteSnapshot removes a completed or failed snapshot and its data;
// queued or running exports of it are cancelled (they stop at their next
// chunk boundary and end Cancelled).
func (s *Service) DeleteSnapshot(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, id string) error {
	sn, err := s.GetSnapshot(ctx, groupID, cluster, kind, id)
	if err != nil {
		return err
	}
	if sn.Status == atlas.SnapshotQueued || sn.Status == atlas.SnapshotInProgress {
		return atlas.ErrCannotDeleteInProgressSnapshot(id, sn.Status)
	}
	jobs, err := s.Repo.ActiveExportJobsForSnapshot(ctx, id)
	if err != nil {
		return internal("delete snapshot", err)
	}
	for _, j := range jobs {
		if err := s.Repo.RequestExportCancel(ctx, j, s.now(), atlas.CancelledSnapshotDeleted(id)); err != nil {
			return internal("cancel export of deleted snapshot", err)
		}
	}
	if err := s.Repo.DeleteSnapshot(ctx, groupID, cluster, id); err != nil && !isNotFound(err) {
		return internal("delete snapshot", err)
	}
	if s.Snapshots != nil {
		if err := s.Snapshots.Delete(ctx, id); err != nil {
			s.logger().Warn("snapshot row deleted but its data remains", "snapshot", id, "err", err)
		}
	}
	return nil
}
