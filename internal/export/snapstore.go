package export

import (
	"context"
	"fmt"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/azure"
	"github.com/snapex/snapex/internal/blob/gcs"
	"github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/snapshot"
)

// OpenSnapshotStorage opens the configured snapshot storage: a local
// directory, or a bucket on any of the blob drivers.
func OpenSnapshotStorage(ctx context.Context, c config.SnapshotStorage) (snapshot.Storage, error) {
	var b blob.Bucket
	var err error
	switch {
	case c.AWS != nil:
		a := c.AWS
		b, err = s3.Open(ctx, s3.Options{Bucket: c.Bucket, Region: a.Region, Endpoint: a.Endpoint, UsePathStyle: a.UsePathStyle,
			AccessKeyID: a.AccessKeyID.Value(), SecretAccessKey: a.SecretAccessKey.Value(), SessionToken: a.SessionToken.Value(),
			SSE: a.SSE, KMSKeyID: a.KMSKeyID})
	case c.Azure != nil:
		z := c.Azure
		b, err = azure.Open(azure.Options{ServiceURL: c.ServiceURL, Container: c.Bucket, AccountName: z.AccountName,
			AccountKey: z.AccountKey.Value(), SASToken: z.SASToken.Value(), TenantID: z.TenantID})
	case c.GCP != nil:
		b, err = gcs.Open(ctx, gcs.Options{Bucket: c.Bucket, CredentialsJSON: c.GCP.CredentialsJSON.Value(), Endpoint: c.GCP.Endpoint})
	default:
		st, err := snapshot.NewDirStorage(c.Directory)
		if err != nil {
			return nil, fmt.Errorf("snapshot storage %s: %w", c.Directory, err)
		}
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snapshot storage bucket %s: %w", c.Bucket, err)
	}
	st, err := snapshot.NewBlobStorage(b, c.Prefix)
	if err != nil {
		return nil, fmt.Errorf("snapshot storage bucket %s: %w", c.Bucket, err)
	}
	return st, nil
}
