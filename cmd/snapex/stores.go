package main

import (
	"context"

	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/stores"
)

// processStores are the object stores of one process, opened by one
// opener: export buckets and snapshot storage get the same part size and
// request timeout.
type processStores struct {
	// dests opens export buckets for the export engine and checks access
	// to them when a bucket is added.
	dests *stores.Destinations
	// snaps is the snapshot storage.
	snaps snapshot.Storage
}

// newOpener is the one opener of this process's stores.
func newOpener(cfg *config.Config) *stores.Opener {
	return &stores.Opener{PartSize: int64(cfg.Exports.PartMiB) << 20, RequestTimeout: seconds(cfg.Exports.RequestTimeoutSeconds)}
}

// openStores opens the configured snapshot storage and the export
// destinations.
func openStores(ctx context.Context, cfg *config.Config) (*processStores, error) {
	opener := newOpener(cfg)
	snaps, err := opener.OpenSnapshotStorage(ctx, cfg.SnapshotStorage)
	if err != nil {
		return nil, err
	}
	return &processStores{dests: &stores.Destinations{Catalog: cfg.Catalog(), Opener: opener}, snaps: snaps}, nil
}
