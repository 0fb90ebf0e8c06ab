// Package stores opens snapex's object stores: the export buckets of
// access roles, the snapshot storage, and any bucket named by a URL
// (s3://, azure://, gs://, file://). It is the one place that maps
// credentials to a blob driver and gives every store the same settings,
// so consumers (the export engine, the snapshot storage, the permission
// check on bucket creation, readers of exports) never pick a driver.
//
// Besides tests, this package is the only importer of the drivers in
// internal/blob/s3, azure, gcs and local; cmd/ wires an [Opener] into the
// packages that need stores, through the narrow interfaces they define.
package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/azure"
	"github.com/snapex/snapex/internal/blob/gcs"
	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/blob/s3"
	"github.com/snapex/snapex/internal/config"
)

// Opener opens buckets with settings shared by every store it opens. The
// zero value keeps the drivers' defaults. It is safe for concurrent use.
type Opener struct {
	// PartSize overrides the drivers' first upload part (block, chunk)
	// size; tests use small parts to exercise multipart paths. 0 keeps
	// the drivers' defaults.
	PartSize int64
	// RequestTimeout bounds how long a store may take to start answering
	// a request before it is retried; 0 keeps the drivers' default (2 min).
	RequestTimeout time.Duration
}

// Credentials are the credential blocks of an access role or of the
// snapshot storage; at most one is set. None set means a local directory
// when Target.Local is set, else an error.
type Credentials struct {
	AWS   *config.AWSAccess
	Azure *config.AzureAccess
	GCP   *config.GCPAccess
	Local *config.LocalAccess
}

// Target names one bucket and how to reach it.
type Target struct {
	Credentials
	// Bucket is the S3 bucket, Azure container or GCS bucket; with Local
	// credentials, the directory under Local.Directory ("" for that
	// directory itself), created on first use.
	Bucket string
	// Region is the S3 region when the credentials name none.
	Region string
	// ServiceURL is the Azure account URL when the credentials name no
	// endpoint.
	ServiceURL string
	// Existing opens a local directory only if it exists already (a
	// source to read) instead of creating it on first use (a
	// destination), so that a mistyped path is reported, not created.
	Existing bool
	// SyncEachObject makes a local bucket fsync every object before it
	// becomes visible. Without it, objects are durable only once
	// Bucket.Sync returns (see local.Options.DeferSync). Cloud stores
	// acknowledge only durable writes and ignore it.
	SyncEachObject bool
}

// Open opens the bucket t names with o's settings.
func (o *Opener) Open(ctx context.Context, t Target) (blob.Bucket, error) {
	switch {
	case t.Local != nil:
		dir := filepath.Join(t.Local.Directory, t.Bucket)
		if t.Existing {
			if _, err := os.Stat(dir); err != nil {
				kind := blob.KindOther
				switch {
				case errors.Is(err, fs.ErrNotExist):
					kind = blob.KindNotFound
				case errors.Is(err, fs.ErrPermission):
					kind = blob.KindPermissionDenied
				}
				var pe *fs.PathError
				if errors.As(err, &pe) {
					err = pe.Err // the error names dir already
				}
				return nil, &blob.Error{Kind: kind, Op: "open", Bucket: dir, Err: err}
			}
		} else if err := os.MkdirAll(dir, 0o750); err != nil {
			// Local "buckets" are for development: created on first use.
			return nil, fmt.Errorf("local bucket %s: %w", dir, err)
		}
		return local.Open(local.Options{Dir: dir, DeferSync: !t.SyncEachObject})
	case t.AWS != nil:
		a := t.AWS
		region := a.Region
		if region == "" {
			region = t.Region
		}
		return s3.Open(ctx, s3.Options{
			Bucket: t.Bucket, Region: region, Endpoint: a.Endpoint, UsePathStyle: a.UsePathStyle,
			AccessKeyID: a.AccessKeyID.Value(), SecretAccessKey: a.SecretAccessKey.Value(), SessionToken: a.SessionToken.Value(),
			SSE: a.SSE, KMSKeyID: a.KMSKeyID, PartSize: o.PartSize, RequestTimeout: o.RequestTimeout,
		})
	case t.Azure != nil:
		z := t.Azure
		serviceURL := t.ServiceURL
		if z.Endpoint != "" {
			serviceURL = z.Endpoint
		}
		return azure.Open(azure.Options{
			ServiceURL: serviceURL, Container: t.Bucket, AccountName: z.AccountName,
			AccountKey: z.AccountKey.Value(), SASToken: z.SASToken.Value(), TenantID: z.TenantID,
			BlockSize: o.PartSize, RequestTimeout: o.RequestTimeout,
		})
	case t.GCP != nil:
		g := t.GCP
		return gcs.Open(ctx, gcs.Options{
			Bucket: t.Bucket, CredentialsJSON: g.CredentialsJSON.Value(), Endpoint: g.Endpoint,
			ChunkSize: int(o.PartSize), RequestTimeout: o.RequestTimeout,
		})
	}
	return nil, fmt.Errorf("bucket %s: no credentials", t.Bucket)
}
