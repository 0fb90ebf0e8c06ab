package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// Snapshot retention: the default when takeSnapshots omits retentionInDays,
// and the longest Atlas allows (10 years).
const (
	defaultRetentionDays = 1
	maxRetentionDays     = 3650
)

// TakeSnapshot queues an on-demand snapshot of the cluster; a second one
// while one is unfinished is refused with UNFINISHED_ON_DEMAND_SNAPSHOT.
func (s *Service) TakeSnapshot(ctx context.Context, cluster atlas.Cluster, description string, retentionDays int) (*atlas.Snapshot, error) {
	if retentionDays == 0 {
		retentionDays = defaultRetentionDays
	}
	if retentionDays < 1 || retentionDays > maxRetentionDays {
		return nil, atlas.ErrInvalidAttribute("retentionInDays", fmt.Sprint(retentionDays), fmt.Sprintf("a number of days from 1 to %d is expected", maxRetentionDays))
	}
	if len(description) > 1024 {
		return nil, atlas.ErrInvalidAttribute("description", description[:32]+"…", "at most 1024 bytes are allowed")
	}
	now := s.now()
	sn := atlas.NewOnDemandSnapshot(cluster, description, retentionDays, now)
	err := s.Repo.CreateQueuedSnapshot(ctx, sn, retentionDays, now)
	if errors.Is(err, atlas.UnfinishedSnapshot) {
		return nil, atlas.ErrUnfinishedOnDemandSnapshot(cluster.Name)
	}
	if err != nil {
		return nil, internal("take snapshot", err)
	}
	return sn, nil
}

// retentionUnits maps Atlas's retentionUnit to days.
var retentionUnits = map[string]int{"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}

// UpdateRetention sets a finished snapshot's expiry to its creation time
// plus value units.
func (s *Service) UpdateRetention(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, id, unit string, value int) (*atlas.Snapshot, error) {
	days, ok := retentionUnits[unit]
	if !ok {
		return nil, atlas.ErrInvalidEnumValue("retentionUnit", unit, "DAYS, WEEKS, MONTHS or YEARS")
	}
	if value < 1 || value*days > maxRetentionDays {
		return nil, atlas.ErrRetentionValueInvalid(value, unit)
	}
	sn, err := s.GetSnapshot(ctx, groupID, cluster, kind, id)
	if err != nil {
		return nil, err
	}
	if sn.Status != atlas.SnapshotCompleted {
		return nil, atlas.ErrCannotModifyInProgressRetention(id, sn.Status)
	}
	out, err := s.Repo.UpdateSnapshot(ctx, id, func(x *atlas.Snapshot) error {
		x.ExpiresAt = x.CreatedAt.Add(time.Duration(value*days) * 24 * time.Hour)
		return nil
	})
	if err != nil {
		return nil, internal("update snapshot retention", err)
	}
	return out, nil
}

// ExpireSnapshots deletes finished snapshots past their expiry (cancelling
// exports still using them) and returns how many it removed.
func (s *Service) ExpireSnapshots(ctx context.Context) (int, error) {
	expired, err := s.Repo.ExpiredSnapshots(ctx, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sn := range expired {
		if err := s.DeleteSnapshot(ctx, sn.GroupID, sn.ClusterName, sn.Kind, sn.ID); err != nil {
			// Deleted meanwhile (another replica expired it, or a user).
			if atlas.HasCode(err, atlas.CodeSnapshotNotFound) {
				continue
			}
			return n, err
		}
		s.logger().Info("expired snapshot deleted", "snapshot", sn.ID, "cluster", sn.ClusterName)
		s.observer().SnapshotExpired(sn.GroupID, sn.ClusterName)
		n++
	}
	return n, nil
}
