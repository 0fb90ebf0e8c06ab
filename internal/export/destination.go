package export

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/azure"
	"github.com/snapex/snapex/internal/blob/gcs"
	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/config"
)

// Destinations opens export buckets with the credentials of the access
// role each one names.
type Destinations struct {
	Catalog *config.Catalog
	// PartSize overrides the drivers' first part size (tests use small
	// parts to exercise multipart paths); 0 keeps the defaults.
	PartSize int64
	// RequestTimeout bounds how long a store may take to start answering a
	// request before it is retried; 0 keeps the drivers' default (2 min).
	RequestTimeout time.Duration
}

// Open returns a blob.Bucket for an export bucket.
func (d *Destinations) Open(ctx context.Context, b *atlas.ExportBucket) (blob.Bucket, error) {
	role, ok := d.Catalog.AccessRole(b.GroupID, b.RoleID)
	if !ok {
		return nil, fmt.Errorf("access role %s of bucket %s is no longer configured", b.RoleID, b.BucketName)
	}
	switch {
	case role.Local != nil:
		dir := filepath.Join(role.Local.Directory, b.BucketName)
		// The local backend is for development: its "buckets" are created
		// on first use.
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("local bucket %s: %w", dir, err)
		}
		// The engine calls Sync before it records progress or finishes,
		// so each file need not be synced on its own.
		return local.Open(local.Options{Dir: dir, DeferSync: true})
	case role.AWS != nil:
		a := role.AWS
		region := a.Region
		if region == "" {
			region = b.Region
		}
		return s3.Open(ctx, s3.Options{
			Bucket: b.BucketName, Region: region, Endpoint: a.Endpoint, UsePathStyle: a.UsePathStyle,
			AccessKeyID: a.AccessKeyID.Value(), SecretAccessKey: a.SecretAccessKey.Value(), SessionToken: a.SessionToken.Value(),
			SSE: a.SSE, KMSKeyID: a.KMSKeyID, PartSize: d.PartSize, RequestTimeout: d.RequestTimeout,
		})
	case role.Azure != nil:
		z := role.Azure
		serviceURL := b.ServiceURL
		if z.Endpoint != "" {
			serviceURL = z.Endpoint
		}
		return azure.Open(azure.Options{
			ServiceURL: serviceURL, Container: b.BucketName, AccountName: z.AccountName,
			AccountKey: z.AccountKey.Value(), SASToken: z.SASToken.Value(), TenantID: z.TenantID, BlockSize: d.PartSize,
			RequestTimeout: d.RequestTimeout,
		})
	case role.GCP != nil:
		g := role.GCP
		return gcs.Open(ctx, gcs.Options{
			Bucket: b.BucketName, CredentialsJSON: g.CredentialsJSON.Value(), Endpoint: g.Endpoint, ChunkSize: int(d.PartSize),
			RequestTimeout: d.RequestTimeout,
		})
	}
	return nil, fmt.Errorf("access role %s has no credentials", role.ID)
}

// CheckBucketAccess writes the empty exported_snapshots/.permissioncheck
// object with the role's credentials, as Atlas does when a bucket is added,
// and answers 400 naming the bucket, the role and the store's reply when
// it cannot.
func (d *Destinations) CheckBucketAccess(ctx context.Context, b *atlas.ExportBucket) error {
	bucket, err := d.Open(ctx, b)
	if err == nil {
		defer bucket.Close()
		err = bucket.WriteAll(ctx, atlas.PermissionCheckKey, nil, nil)
	}
	if err == nil {
		return nil
	}
	return atlas.ErrBucketAccessDenied(
		fmt.Sprintf("snapex could not write %s to %s bucket %s with access role %s: %v", atlas.PermissionCheckKey, b.CloudProvider, b.BucketName, b.RoleID, err),
		b.BucketName, b.RoleID)
}
