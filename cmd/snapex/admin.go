package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
)

// runSnapshot handles "snapex snapshot import".
func runSnapshot(args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return fmt.Errorf("usage: snapex snapshot import --config FILE --project ID --cluster NAME [--replica-set NAME] [--retention-days N] DIR")
	}
	fs := flag.NewFlagSet("snapshot import", flag.ContinueOnError)
	cfgPath := fs.String("config", "snapex-data/snapex.yaml", "config file")
	project := fs.String("project", "", "project (group) id")
	clusterName := fs.String("cluster", "", "cluster name")
	rsName := fs.String("replica-set", "", "replica set of a flat dump (default: the cluster's only replica set)")
	retention := fs.Int("retention-days", 30, "days until the snapshot expires")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || *project == "" || *clusterName == "" {
		return fmt.Errorf("usage: snapex snapshot import --config FILE --project ID --cluster NAME [--replica-set NAME] DIR")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	cluster, ok := cfg.Catalog().Cluster(*project, *clusterName)
	if !ok {
		return fmt.Errorf("no cluster %s in project %s of %s", *clusterName, *project, *cfgPath)
	}
	ctx := context.Background()
	sn, err := importSnapshot(ctx, cfg, cluster, fs.Arg(0), *rsName, time.Duration(*retention)*24*time.Hour)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "snapex: imported %s as snapshot %s of %s (%d bytes stored)\n", fs.Arg(0), sn.ID, cluster.Name, sn.StorageSizeBytes)
	fmt.Println(sn.ID)
	return nil
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

// runExport handles "snapex export cancel JOB_ID".
func runExport(args []string) error {
	if len(args) == 0 || args[0] != "cancel" {
		return fmt.Errorf("usage: snapex export cancel [--config FILE] JOB_ID")
	}
	fs := flag.NewFlagSet("export cancel", flag.ContinueOnError)
	cfgPath := fs.String("config", "snapex-data/snapex.yaml", "config file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 || !atlas.ValidObjectID(fs.Arg(0)) {
		return fmt.Errorf("usage: snapex export cancel [--config FILE] JOB_ID (a 24-hex export id)")
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		return err
	}
	defer st.Close()
	j, err := st.RequestExportCancel(ctx, fs.Arg(0), time.Now())
	if err != nil {
		return err
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
