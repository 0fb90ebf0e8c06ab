package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// defaultRetentionDays applies when takeSnapshots omits retentionInDays.
const defaultRetentionDays = 1

// TakeSnapshot queues an on-demand snapshot of the cluster; a second one
// while one is unfinished is 400 UNFINISHED_ON_DEMAND_SNAPSHOT.
func (s *Service) TakeSnapshot(ctx context.Context, cluster atlas.Cluster, description string, retentionDays int) (*atlas.Snapshot, error) {
	if retentionDays == 0 {
		retentionDays = defaultRetentionDays
	}
	if retentionDays < 1 || retentionDays > 3650 {
		return nil, atlas.ErrInvalidAttribute("retentionInDays", fmt.Sprint(retentionDays), "a number of days from 1 to 3650 is expected")
	}
	if len(description) > 1024 {
		return nil, atlas.ErrInvalidAttribute("description", description[:32]+"…", "at most 1024 bytes are allowed")
	}
	now := s.now()
	sn := &atlas.Snapshot{
		ID: atlas.NewObjectID(now), GroupID: cluster.GroupID, ClusterName: cluster.Name, Status: atlas.SnapshotQueued,
		SnapshotType: "onDemand", FrequencyType: "ondemand", Description: description,
		ExpiresAt: now.Add(time.Duration(retentionDays) * 24 * time.Hour).Truncate(time.Second),
	}
	if cluster.Type == atlas.ShardedCluster {
		sn.Kind = atlas.ShardedClusterSnapshot
		for _, rs := range cluster.ReplicaSets {
			sn.Members = append(sn.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(now), ReplicaSetName: rs.Name})
		}
	} else {
		sn.Kind, sn.ReplicaSetName = atlas.ReplicaSetSnapshot, cluster.ReplicaSets[0].Name
	}
	var enqueue store.InTx
	if s.EnqueueSnapshot != nil {
		enqueue = s.EnqueueSnapshot(sn)
	}
	err := s.Store.CreateQueuedSnapshot(ctx, sn, retentionDays, now, enqueue)
	if errors.Is(err, store.ErrUnfinishedSnapshot) {
		return nil, atlas.NewError(http.StatusBadRequest, "UNFINISHED_ON_DEMAND_SNAPSHOT",
			fmt.Sprintf("Cluster %s already has an on-demand snapshot that has not finished.", cluster.Name), cluster.Name)
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
		return nil, atlas.NewError(http.StatusBadRequest, "INVALID_ENUM_VALUE",
			fmt.Sprintf("Invalid retentionUnit %q; expected DAYS, WEEKS, MONTHS or YEARS.", unit), "retentionUnit", unit)
	}
	if value < 1 || value*days > 3650 {
		return nil, atlas.NewError(http.StatusBadRequest, "BACKUP_SNAPSHOT_RETENTION_VALUE_INVALID",
			fmt.Sprintf("retentionValue %d %s is outside 1 day to 10 years.", value, unit), fmt.Sprint(value))
	}
	sn, err := s.GetSnapshot(ctx, groupID, cluster, kind, id)
	if err != nil {
		return nil, err
	}
	if sn.Status != atlas.SnapshotCompleted {
		return nil, atlas.NewError(http.StatusBadRequest, "CANNOT_MODIFY_IN_PROGRESS_SNAPSHOT_RETENTION",
			fmt.Sprintf("Snapshot %s is %s; its retention can change once it has completed.", id, sn.Status), id)
	}
	out, err := s.Store.UpdateSnapshot(ctx, id, func(x *atlas.Snapshot) error {
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
	expired, err := s.Store.ExpiredSnapshots(ctx, s.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sn := range expired {
		if err := s.DeleteSnapshot(ctx, sn.GroupID, sn.ClusterName, sn.Kind, sn.ID); err != nil {
			var ae *atlas.Error
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
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
