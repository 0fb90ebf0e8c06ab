package service

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
)

// versionScanDepth is how many of a cluster's newest snapshots are looked
// at for a recorded server version.
const versionScanDepth = 20

// WithObservedVersion returns c with MongoDBVersion set to the server
// version its newest completed snapshot recorded (read from the server at
// capture, or from the dump's prelude.json on import); the configured
// version stays when no recent snapshot recorded one. A store failure
// keeps the configured version too: a cluster read must not fail over a
// field the client can live without.
func (s *Service) WithObservedVersion(ctx context.Context, c atlas.Cluster) atlas.Cluster {
	kind := atlas.ReplicaSetSnapshot
	if c.Type == atlas.ShardedCluster {
		kind = atlas.ShardedClusterSnapshot
	}
	list, _, err := s.Repo.ListSnapshots(ctx, c.GroupID, c.Name, kind, atlas.Page{Number: 1, ItemsPerPage: versionScanDepth})
	if err != nil {
		s.logger().WarnContext(ctx, "reading snapshots for the cluster's server version", "cluster", c.Name, "err", err)
		return c
	}
	for _, sn := range list {
		if sn.Status == atlas.SnapshotCompleted && sn.MongodVersion != "" {
			c.MongoDBVersion = sn.MongodVersion
			return c
		}
	}
	return c
}
