package atlas

import "time"

// Snapshot types and frequencies of on-demand snapshots, as Atlas spells
// them.
const (
	OnDemandSnapshotType = "onDemand"
	OnDemandFrequency    = "ondemand"
)

// NewOnDemandSnapshot is a queued on-demand snapshot of cluster requested
// at now and kept retentionDays: a sharded cluster's snapshot has one
// member per replica set (the config server's included), a replica set's
// names its replica set.
func NewOnDemandSnapshot(cluster Cluster, description string, retentionDays int, now time.Time) *Snapshot {
	sn := &Snapshot{
		ID: NewObjectID(now), GroupID: cluster.GroupID, ClusterName: cluster.Name, Status: SnapshotQueued,
		SnapshotType: OnDemandSnapshotType, FrequencyType: OnDemandFrequency, Description: description,
		ExpiresAt: now.Add(time.Duration(retentionDays) * 24 * time.Hour).Truncate(time.Second),
	}
	if cluster.Type == ShardedCluster {
		sn.Kind = ShardedClusterSnapshot
		for _, rs := range cluster.ReplicaSets {
			sn.Members = append(sn.Members, SnapshotMember{ID: NewObjectID(now), ReplicaSetName: rs.Name})
		}
	} else {
		sn.Kind, sn.ReplicaSetName = ReplicaSetSnapshot, cluster.ReplicaSets[0].Name
	}
	return sn
}
