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

// access says which sections the caller may see in a project.
type access struct{ snapshots, exports bool }

type clusterView struct {
	atlas.Cluster
	// ShowSnapshots and ShowExports are false when the caller's roles do
	// not allow listing them.
	ShowSnapshots, ShowExports bool
	Snapshots                  []*atlas.Snapshot
	Exports                    []exportView
	// SnapshotsTotal and ExportsTotal count all, of which the newest are
	// shown.
	SnapshotsTotal, ExportsTotal int
}

// exportView is an export job with the bucket it writes to.
type exportView struct {
	*atlas.ExportJob
	Bucket string // provider and name, or the id of a deleted bucket
	// BarMax is the progress bar's maximum: the BSON bytes to export (1
	// until known, so an empty bar shows).
	BarMax int64
	// Percent is the share of BSON bytes exported, for people.
	Percent string
}

func (p *Page) project(ctx context.Context, proj atlas.Project, can access) (projectView, error) {
	pv := projectView{Project: proj}
	buckets := map[string]string{}
	clusters, _ := p.Service.ListClusters(proj.ID, atlas.Page{Number: 1, ItemsPerPage: atlas.MaxItemsPerPage})
	for _, cl := range clusters {
		cv := clusterView{Cluster: p.Service.WithObservedVersion(ctx, cl), ShowSnapshots: can.snapshots, ShowExports: can.exports}
		if can.snapshots {
			kind := atlas.ReplicaSetSnapshot
			if cl.Type == atlas.ShardedCluster {
				kind = atlas.ShardedClusterSnapshot
			}
			snaps, total, err := p.Service.ListSnapshots(ctx, proj.ID, cl.Name, kind, atlas.Page{Number: 1, ItemsPerPage: snapshotsShown})
			if err != nil {
				return pv, fmt.Errorf("snapshots of %s: %w", cl.Name, err)
			}
			cv.Snapshots, cv.SnapshotsTotal = snaps, total
		}
		if !can.exports {
			pv.Clusters = append(pv.Clusters, cv)
			continue
		}
		jobs, err := p.newestExports(ctx, proj.ID, cl.Name, &cv.ExportsTotal)
		if err != nil {
			return pv, fmt.Errorf("export jobs of %s: %w", cl.Name, err)
		}
		for i := len(jobs) - 1; i >= 0; i-- { // newest first
			j := jobs[i]
			ev := exportView{ExportJob: j, Bucket: p.bucketName(ctx, proj.ID, j.ExportBucketID, buckets), BarMax: max(j.Progress.BytesTotal, 1), Percent: "0%"}
			if j.Progress.BytesTotal > 0 {
				ev.Percent = fmt.Sprintf("%.1f%%", float64(j.Progress.Bytes)*100/float64(j.Progress.BytesTotal))
			}
			cv.Exports = append(cv.Exports, ev)
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
