package service

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// GetSnapshot returns one snapshot of the given kind.
func (s *Service) GetSnapshot(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, id string) (*atlas.Snapshot, error) {
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidSnapshotID(id)
	}
	sn, err := s.Store.GetSnapshot(ctx, groupID, cluster, id)
	if isNotFound(err) || (err == nil && sn.Kind != kind) {
		return nil, atlas.ErrSnapshotNotFound(id, cluster)
	}
	if err != nil {
		return nil, internal("get snapshot", err)
	}
	return sn, nil
}

// ListSnapshots returns a page of a cluster's snapshots of one kind.
func (s *Service) ListSnapshots(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, p store.Page) ([]*atlas.Snapshot, int, error) {
	out, total, err := s.Store.ListSnapshots(ctx, groupID, cluster, kind, p)
	if err != nil {
		return nil, 0, internal("list snapshots", err)
	}
	return out, total, nil
}
