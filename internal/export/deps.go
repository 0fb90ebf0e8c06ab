package export

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
)

// Destinations opens the bucket an export writes into. The engine never
// picks a store driver: cmd/ wires one opener (internal/stores) that maps
// the bucket's access role to a driver.
type Destinations interface {
	// Open returns the bucket b names; the engine closes it.
	Open(ctx context.Context, b *atlas.ExportBucket) (blob.Bucket, error)
}

// Catalog answers what the configuration says about the projects,
// organizations and clusters a job names.
type Catalog interface {
	Project(id string) (atlas.Project, bool)
	Organization(id string) (atlas.Organization, bool)
	Cluster(groupID, name string) (atlas.Cluster, bool)
}
