package stores

import (
	"context"
	"fmt"

	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
)

// OpenSnapshotStorage opens the configured snapshot storage: a local
// directory, or a bucket on any of the stores, with o's settings. Every
// snapshot object is durable once written (a local directory fsyncs each
// one), because nothing calls Sync before a snapshot is recorded complete.
// The storage lives as long as the process.
func (o *Opener) OpenSnapshotStorage(ctx context.Context, c config.SnapshotStorage) (*snapshot.BlobStorage, error) {
	t := Target{Credentials: Credentials{AWS: c.AWS, Azure: c.Azure, GCP: c.GCP}, Bucket: c.Bucket, ServiceURL: c.ServiceURL, SyncEachObject: true}
	where := "bucket " + c.Bucket
	if c.AWS == nil && c.Azure == nil && c.GCP == nil {
		t = Target{Credentials: Credentials{Local: &config.LocalAccess{Directory: c.Directory}}, SyncEachObject: true}
		where = c.Directory
	}
	b, err := o.Open(ctx, t)
	if err != nil {
		return nil, fmt.Errorf("snapshot storage %s: %w", where, err)
	}
	prefix := c.Prefix
	if t.Local != nil {
		prefix = ""
	}
	st, err := snapshot.NewBlobStorage(b, prefix)
	if err != nil {
		_ = b.Close()
		return nil, fmt.Errorf("snapshot storage %s: %w", where, err)
	}
	return st, nil
}
