package statuspage

import (
	"context"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// pageView is what the template renders.
type pageView struct {
	Caller         string
	Now            time.Time
	RefreshSeconds int
	Projects       []projectView
}

type projectView struct {
	atlas.Project
	Clusters []clusterView
}

type clusterView struct {
	atlas.Cluster
	Snapshots []*atlas.Snapshot
	Exports   []exportView
	// SnapshotsTotal and ExportsTotal count all, of which the newest are
	// shown.
	SnapshotsTotal, ExportsTotal int
}

// exportView is an export job with the bucket it writes to.
type exportView struct {
	*atlas.ExportJob
	Bucket   string // provider and name, or the id of a deleted bucket
	Progress int64  // percent of BSON bytes
}

func (p *Page) project(ctx context.Context, proj atlas.Project) (projectView, error) {
	pv := projectView{Project: proj}
	buckets := map[string]string{}
	clusters, _ := p.Service.ListClusters(proj.ID, atlas.Page{Number: 1, ItemsPerPage: atlas.MaxItemsPerPage})
	for _, cl := range clusters {
		cv := clusterView{Cluster: p.Service.WithObservedVersion(ctx, cl)}
		kind := atlas.ReplicaSetSnapshot
		if cl.Type == atlas.ShardedCluster {
			kind = atlas.ShardedClusterSnapshot
		}
		snaps, total, err := p.Service.ListSnapshots(ctx, proj.ID, cl.Name, kind, atlas.Page{Number: 1, ItemsPerPage: snapshotsShown})
		if err != nil {
			return pv, fmt.Errorf("snapshots of %s: %w", cl.Name, err)
		}
		cv.Snapshots, cv.SnapshotsTotal = snaps, total
		jobs, err := p.newestExports(ctx, proj.ID, cl.Name, &cv.ExportsTotal)
		if err != nil {
			return pv, fmt.Errorf("export jobs of %s: %w", cl.Name, err)
		}
		for i := len(jobs) - 1; i >= 0; i-- { // newest first
			j := jobs[i]
			cv.Exports = append(cv.Exports, exportView{ExportJob: j, Bucket: p.bucketName(ctx, proj.ID, j.ExportBucketID, buckets),
				Progress: percent(j.Progress.Bytes, j.Progress.BytesTotal)})
		}
		pv.Clusters = append(pv.Clusters, cv)
	}
	return pv, nil
}

// newestExports returns the newest export jobs of a cluster, oldest
// first (the API lists them in creation order), and sets *total.
func (p *Page) newestExports(ctx context.Context, groupID, cluster string, total *int) ([]*atlas.ExportJob, error) {
	first, n, err := p.Service.ListExportJobs(ctx, groupID, cluster, atlas.Page{Number: 1, ItemsPerPage: exportsShown})
	if err != nil {
		return nil, err
	}
	*total = n
	if n <= exportsShown {
		return first, nil
	}
	// The last two pages hold the newest exportsShown jobs.
	last := (n + exportsShown - 1) / exportsShown
	prev, _, err := p.Service.ListExportJobs(ctx, groupID, cluster, atlas.Page{Number: last - 1, ItemsPerPage: exportsShown})
	if err != nil {
		return nil, err
	}
	tail, _, err := p.Service.ListExportJobs(ctx, groupID, cluster, atlas.Page{Number: last, ItemsPerPage: exportsShown})
	if err != nil {
		return nil, err
	}
	all := append(prev, tail...)
	return all[max(len(all)-exportsShown, 0):], nil
}

// bucketName names a bucket for people, remembering it in seen.
func (p *Page) bucketName(ctx context.Context, groupID, id string, seen map[string]string) string {
	if name, ok := seen[id]; ok {
		return name
	}
	name := id + " (deleted)"
	if b, err := p.Service.GetBucket(ctx, groupID, id); err == nil {
		name = string(b.CloudProvider) + " " + b.BucketName
	}
	seen[id] = name
	return name
}
