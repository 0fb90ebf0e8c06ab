package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// importOptions are the flags of "snapex snapshot import".
type importOptions struct {
	cfgPath, project, cluster, replicaSet, dir string
	retentionDays                              int
}

// runSnapshotImport handles "snapex snapshot import".
func runSnapshotImport(o importOptions) error {
	if err := hasCollections(o.dir); err != nil {
		return err
	}
	cfg, err := config.Load(o.cfgPath)
	if err != nil {
		return err
	}
	cluster, ok := cfg.Catalog().Cluster(o.project, o.cluster)
	if !ok {
		return fmt.Errorf("no cluster %s in project %s of %s", o.cluster, o.project, o.cfgPath)
	}
	ctx := context.Background()
	sn, err := importSnapshot(ctx, cfg, cluster, o.dir, o.replicaSet, time.Duration(o.retentionDays)*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "snapex: imported %s as snapshot %s of %s (%d bytes stored)\n", o.dir, sn.ID, cluster.Name, sn.StorageSizeBytes)
	fmt.Println(sn.ID)
	return nil
}

// hasCollections fails unless dir holds at least one collection dump
// (a .bson or .bson.gz file at any depth), so an empty or wrong directory
// does not become an empty snapshot.
func hasCollections(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("import: %s is not a directory; pass a mongodump output directory", dir)
	}
	found := errors.New("found")
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".bson") || strings.HasSuffix(p, ".bson.gz")) {
			return found
		}
		return nil
	})
	switch {
	case errors.Is(err, found):
		return nil
	case err != nil:
		return fmt.Errorf("import: %w", err)
	}
	return fmt.Errorf("import: %s holds no collections (no .bson or .bson.gz files); pass a mongodump output directory", dir)
}

// importSnapshot copies a mongodump directory into snapshot storage and
// registers it as a completed on-demand snapshot.
func importSnapshot(ctx context.Context, cfg *config.Config, cluster atlas.Cluster, dir, rsName string, retention time.Duration) (*atlas.Snapshot, error) {
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		return nil, err
	}
	defer st.Close()
	snaps, err := newOpener(cfg).OpenSnapshotStorage(ctx, cfg.SnapshotStorage)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	id := atlas.NewObjectID(now)
	opts := snapshot.ImportOptions{SnapshotID: id, ClusterName: cluster.Name, CreatedAt: now, MongodVersion: cluster.MongoDBVersion,
		ReplicaSetName: rsName, DefaultReplicaSetName: cluster.ReplicaSets[0].Name}
	switch {
	case cfg.Snapshots.Uncompressed:
		opts.WriterOptions = append(opts.WriterOptions, snapshot.WithGzipLevel(0))
	case cfg.Snapshots.GzipLevel != 0:
		opts.WriterOptions = append(opts.WriterOptions, snapshot.WithGzipLevel(cfg.Snapshots.GzipLevel))
	}
	if cluster.Type == atlas.ShardedCluster {
		opts.Type = snapshot.ClusterShardedCluster
	} else {
		opts.Type = snapshot.ClusterReplicaSet
	}
	m, err := snapshot.Import(ctx, dir, snaps, opts)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", dir, err)
	}
	sn := &atlas.Snapshot{
		ID: id, GroupID: cluster.GroupID, ClusterName: cluster.Name, Status: atlas.SnapshotCompleted,
		SnapshotType: "onDemand", FrequencyType: "ondemand", Description: "imported from " + dir,
		MongodVersion: m.MongodVersion, CreatedAt: now, ExpiresAt: now.Add(retention),
		Consistency: string(m.Consistency.Guarantee),
	}
	for _, rs := range m.ReplicaSets {
		for _, c := range rs.Collections {
			sn.StorageSizeBytes += c.CompressedBytes
		}
	}
	if cluster.Type == atlas.ShardedCluster {
		sn.Kind = atlas.ShardedClusterSnapshot
		for _, rs := range m.ReplicaSets {
			sn.Members = append(sn.Members, atlas.SnapshotMember{ID: atlas.NewObjectID(now), ReplicaSetName: rs.Name})
		}
	} else {
		sn.Kind, sn.ReplicaSetName = atlas.ReplicaSetSnapshot, m.ReplicaSets[0].Name
	}
	if err := st.CreateSnapshot(ctx, sn); err != nil {
		_ = snaps.Delete(ctx, id)
		return nil, err
	}
	return sn, nil
}

// runExportCancel handles "snapex export cancel JOB_ID".
func runExportCancel(cfgPath, id string) error {
	if !atlas.ValidObjectID(id) {
		return fmt.Errorf("export id %q is not a 24-hex id", id)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		return err
	}
	defer st.Close()
	j, err := st.RequestExportCancel(ctx, id, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no export job %s in %s", id, cfgPath)
	}
	if err != nil {
		return fmt.Errorf("cancel export %s: %w", id, err)
	}
	switch {
	case j.State == atlas.ExportCancelled:
		fmt.Fprintf(os.Stderr, "snapex: export %s is Cancelled\n", j.ID)
	case j.State.Terminal():
		fmt.Fprintf(os.Stderr, "snapex: export %s already ended %s\n", j.ID, j.State)
	default:
		fmt.Fprintf(os.Stderr, "snapex: export %s will stop at its next chunk and end Cancelled\n", j.ID)
	}
	return nil
}
