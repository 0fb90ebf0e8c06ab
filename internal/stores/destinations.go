package stores

import (
	"context"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
)

// Destinations opens export buckets with the credentials of the access
// role each one names. It satisfies export.Destinations and
// service.AccessChecker.
type Destinations struct {
	Catalog *config.Catalog
	Opener  *Opener
}

// Target returns how to reach an export bucket: its access role's
// credentials and the location the bucket row records.
func (d *Destinations) Target(b *atlas.ExportBucket) (Target, error) {
	role, ok := d.Catalog.AccessRole(b.GroupID, b.RoleID)
	if !ok {
		return Target{}, fmt.Errorf("access role %s of bucket %s is no longer configured", b.RoleID, b.BucketName)
	}
	if role.Local == nil && role.AWS == nil && role.Azure == nil && role.GCP == nil {
		return Target{}, fmt.Errorf("access role %s has no credentials", role.ID)
	}
	return Target{
		Credentials: Credentials{AWS: role.AWS, Azure: role.Azure, GCP: role.GCP, Local: role.Local},
		Bucket:      b.BucketName, Region: b.Region, ServiceURL: b.ServiceURL,
	}, nil
}

// Open returns a blob.Bucket for an export bucket. A local bucket defers
// its fsyncs to Bucket.Sync, which the export engine calls before it
// records progress or finishes.
func (d *Destinations) Open(ctx context.Context, b *atlas.ExportBucket) (blob.Bucket, error) {
	t, err := d.Target(b)
	if err != nil {
		return nil, err
	}
	return d.opener().Open(ctx, t)
}

func (d *Destinations) opener() *Opener {
	if d.Opener == nil {
		return &Opener{}
	}
	return d.Opener
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
		fmt.Sprintf("snapex could not write %s to %s bucket %s with access role %s: %v", atlas.PermissionCheckKey, atlas.WithArticle(string(b.CloudProvider)), b.BucketName, b.RoleID, err),
		b.BucketName, b.RoleID)
}
