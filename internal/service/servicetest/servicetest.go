// Package servicetest provides in-memory implementations of the interfaces
// package service depends on, keeping the store's conflict rules (one
// active export per snapshot, one prefix per bucket, no deleting a bucket
// in use, one unfinished on-demand snapshot per cluster), so the service's
// rules can be tested without a database.
package servicetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/service"
)

// Repo is an in-memory service.Repository. Its zero value is ready; it is
// safe for concurrent use.
type Repo struct {
	mu        sync.Mutex
	buckets   []*atlas.ExportBucket
	snapshots []*atlas.Snapshot
	jobs      []*atlas.ExportJob
	// schedules holds backup schedules by group id and cluster name;
	// scheduled holds scheduled snapshots' facts by snapshot id.
	schedules map[[2]string]*storedSchedule
	scheduled map[string]*scheduledFacts
	// Cancelled lists the jobs RequestExportCancel was called for.
	Cancelled []string
	// Fail, when set, is returned by every call (a database outage).
	Fail error
}

var _ service.Repository = (*Repo)(nil)

func clone[T any](v *T) *T { c := *v; return &c }

// page returns the page p of items.
func page[T any](items []T, p atlas.Page) ([]T, int) {
	start, end := p.Slice(len(items))
	return slices.Clone(items[start:end]), len(items)
}

func notFound(what, id string) error { return fmt.Errorf("%s %s: %w", what, id, atlas.NotFound) }

// CreateBucket implements service.Buckets.
func (r *Repo) CreateBucket(_ context.Context, b *atlas.ExportBucket) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	r.buckets = append(r.buckets, clone(b))
	return nil
}

func (r *Repo) bucket(groupID, id string) *atlas.ExportBucket {
	for _, b := range r.buckets {
		if b.GroupID == groupID && b.ID == id {
			return b
		}
	}
	return nil
}

// GetBucket implements service.Buckets.
func (r *Repo) GetBucket(_ context.Context, groupID, id string) (*atlas.ExportBucket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	if b := r.bucket(groupID, id); b != nil {
		return clone(b), nil
	}
	return nil, notFound("export bucket", id)
}

// ListBuckets implements service.Buckets.
func (r *Repo) ListBuckets(_ context.Context, groupID string, provider atlas.Provider, p atlas.Page) ([]*atlas.ExportBucket, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, 0, r.Fail
	}
	var out []*atlas.ExportBucket
	for _, b := range r.buckets {
		if b.GroupID == groupID && (provider == "" || b.CloudProvider == provider) {
			out = append(out, clone(b))
		}
	}
	items, total := page(out, p)
	return items, total, nil
}

// SetBucketPrivateNetworking implements service.Buckets.
func (r *Repo) SetBucketPrivateNetworking(_ context.Context, groupID, id string, v bool) (*atlas.ExportBucket, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	b := r.bucket(groupID, id)
	if b == nil {
		return nil, notFound("export bucket", id)
	}
	b.RequirePrivateNetworking = v
	return clone(b), nil
}

// DeleteBucket implements service.Buckets.
func (r *Repo) DeleteBucket(_ context.Context, groupID, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	i := slices.IndexFunc(r.buckets, func(b *atlas.ExportBucket) bool { return b.GroupID == groupID && b.ID == id })
	if i < 0 {
		return notFound("export bucket", id)
	}
	for _, j := range r.jobs {
		if j.ExportBucketID == id && j.State.Active() {
			return fmt.Errorf("delete export bucket %s: %w", id, atlas.BucketInUse)
		}
	}
	if names := r.schedulesUsing(id); len(names) > 0 {
		return fmt.Errorf("delete export bucket %s: %w", id, &atlas.BucketScheduled{Clusters: names})
	}
	r.buckets = slices.Delete(r.buckets, i, i+1)
	return nil
}

// AddSnapshot stores a snapshot as the taker would leave it.
func (r *Repo) AddSnapshot(sn *atlas.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snapshots = append(r.snapshots, clone(sn))
}

func (r *Repo) snapshotIndex(id string) int {
	return slices.IndexFunc(r.snapshots, func(s *atlas.Snapshot) bool { return s.ID == id })
}

// GetSnapshot implements service.Snapshots.
func (r *Repo) GetSnapshot(_ context.Context, groupID, cluster, id string) (*atlas.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	if i := r.snapshotIndex(id); i >= 0 && r.snapshots[i].GroupID == groupID && r.snapshots[i].ClusterName == cluster {
		return clone(r.snapshots[i]), nil
	}
	return nil, notFound("snapshot", id)
}

// ListSnapshots implements service.Snapshots (newest first, as the store).
func (r *Repo) ListSnapshots(_ context.Context, groupID, cluster string, kind atlas.SnapshotKind, p atlas.Page) ([]*atlas.Snapshot, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, 0, r.Fail
	}
	var out []*atlas.Snapshot
	for i := len(r.snapshots) - 1; i >= 0; i-- {
		if s := r.snapshots[i]; s.GroupID == groupID && s.ClusterName == cluster && s.Kind == kind {
			out = append(out, clone(s))
		}
	}
	items, total := page(out, p)
	return items, total, nil
}

// CreateQueuedSnapshot implements service.Snapshots.
func (r *Repo) CreateQueuedSnapshot(_ context.Context, sn *atlas.Snapshot, _ int, _ time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	for _, s := range r.snapshots {
		if s.GroupID == sn.GroupID && s.ClusterName == sn.ClusterName && s.SnapshotType == atlas.OnDemandSnapshotType &&
			(s.Status == atlas.SnapshotQueued || s.Status == atlas.SnapshotInProgress) {
			return fmt.Errorf("create snapshot %s: %w", sn.ID, atlas.UnfinishedSnapshot)
		}
	}
	r.snapshots = append(r.snapshots, clone(sn))
	return nil
}

// UpdateSnapshot implements service.Snapshots.
func (r *Repo) UpdateSnapshot(_ context.Context, id string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	i := r.snapshotIndex(id)
	if i < 0 {
		return nil, notFound("snapshot", id)
	}
	next := clone(r.snapshots[i])
	if err := fn(next); err != nil {
		return nil, err
	}
	r.snapshots[i] = next
	return clone(next), nil
}

// DeleteSnapshot implements service.Snapshots.
func (r *Repo) DeleteSnapshot(_ context.Context, groupID, cluster, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	i := r.snapshotIndex(id)
	if i < 0 || r.snapshots[i].GroupID != groupID || r.snapshots[i].ClusterName != cluster {
		return notFound("snapshot", id)
	}
	r.snapshots = slices.Delete(r.snapshots, i, i+1)
	delete(r.scheduled, id)
	return nil
}

// ExpiredSnapshots implements service.Snapshots: finished snapshots whose
// expiry is not after now.
func (r *Repo) ExpiredSnapshots(_ context.Context, now time.Time) ([]*atlas.Snapshot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	var out []*atlas.Snapshot
	for _, s := range r.snapshots {
		finished := s.Status == atlas.SnapshotCompleted || s.Status == atlas.SnapshotFailed
		if finished && !s.ExpiresAt.IsZero() && !s.ExpiresAt.After(now) {
			out = append(out, clone(s))
		}
	}
	return out, nil
}

// CreateExportJob implements service.ExportJobs.
func (r *Repo) CreateExportJob(_ context.Context, j *atlas.ExportJob) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	return r.createExportJob(j)
}

// createExportJob stores j under the store's rules; r.mu is held.
func (r *Repo) createExportJob(j *atlas.ExportJob) error {
	if r.bucket(j.GroupID, j.ExportBucketID) == nil {
		return notFound("export bucket", j.ExportBucketID)
	}
	for _, o := range r.jobs {
		if o.ExportBucketID == j.ExportBucketID && o.Prefix == j.Prefix {
			return fmt.Errorf("create export job %s: %w", j.ID, atlas.PrefixTaken)
		}
		if o.SnapshotID == j.SnapshotID && o.State.Active() {
			return fmt.Errorf("create export job %s: %w", j.ID, atlas.ActiveExportExists)
		}
	}
	r.jobs = append(r.jobs, clone(j))
	return nil
}

// SetJobState moves a stored job to state, as the export engine would.
func (r *Repo) SetJobState(id string, state atlas.ExportState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.ID == id {
			j.State = state
		}
	}
}

// GetExportJob implements service.ExportJobs.
func (r *Repo) GetExportJob(_ context.Context, groupID, cluster, id string) (*atlas.ExportJob, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	for _, j := range r.jobs {
		if j.GroupID == groupID && j.ClusterName == cluster && j.ID == id {
			return clone(j), nil
		}
	}
	return nil, notFound("export job", id)
}

// ListExportJobs implements service.ExportJobs.
func (r *Repo) ListExportJobs(_ context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.ExportJob, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, 0, r.Fail
	}
	var out []*atlas.ExportJob
	for _, j := range r.jobs {
		if j.GroupID == groupID && j.ClusterName == cluster {
			out = append(out, clone(j))
		}
	}
	items, total := page(out, p)
	return items, total, nil
}

// ActiveExportJobsForSnapshot implements service.ExportJobs.
func (r *Repo) ActiveExportJobsForSnapshot(_ context.Context, snapshotID string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return nil, r.Fail
	}
	var ids []string
	for _, j := range r.jobs {
		if j.SnapshotID == snapshotID && j.State.Active() {
			ids = append(ids, j.ID)
		}
	}
	return ids, nil
}

// RequestExportCancel implements service.ExportJobs by recording the id.
func (r *Repo) RequestExportCancel(_ context.Context, id string, _ time.Time, _ atlas.StateReason) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Fail != nil {
		return r.Fail
	}
	r.Cancelled = append(r.Cancelled, id)
	return nil
}

// Catalog is an in-memory service.Catalog.
type Catalog struct {
	Organizations []atlas.Organization
	Projects      []atlas.Project
	// ClusterList holds every project's clusters.
	ClusterList []atlas.Cluster
	// Roles maps a project id to its access roles.
	Roles map[string][]*config.AccessRole
}

var _ service.Catalog = (*Catalog)(nil)

// Project implements service.Catalog.
func (c *Catalog) Project(id string) (atlas.Project, bool) {
	for _, p := range c.Projects {
		if p.ID == id {
			return p, true
		}
	}
	return atlas.Project{}, false
}

// Cluster implements service.Catalog.
func (c *Catalog) Cluster(groupID, name string) (atlas.Cluster, bool) {
	for _, cl := range c.ClusterList {
		if cl.GroupID == groupID && cl.Name == name {
			return cl, true
		}
	}
	return atlas.Cluster{}, false
}

// Organization implements service.Catalog.
func (c *Catalog) Organization(id string) (atlas.Organization, bool) {
	for _, o := range c.Organizations {
		if o.ID == id {
			return o, true
		}
	}
	return atlas.Organization{}, false
}

// AllClusters implements service.Catalog.
func (c *Catalog) AllClusters() []atlas.Cluster { return slices.Clone(c.ClusterList) }

// Clusters implements service.Catalog.
func (c *Catalog) Clusters(groupID string) []atlas.Cluster {
	var out []atlas.Cluster
	for _, cl := range c.ClusterList {
		if cl.GroupID == groupID {
			out = append(out, cl)
		}
	}
	return out
}

// AccessRole implements service.Catalog.
func (c *Catalog) AccessRole(groupID, id string) (*config.AccessRole, bool) {
	for _, r := range c.Roles[groupID] {
		if r.ID == id {
			return r, true
		}
	}
	return nil, false
}

// SnapshotData records the snapshots whose data was deleted.
type SnapshotData struct {
	mu      sync.Mutex
	Deleted []string
}

// Delete implements service.SnapshotData.
func (d *SnapshotData) Delete(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Deleted = append(d.Deleted, id)
	return nil
}

// AccessChecker answers every bucket access check with Err.
type AccessChecker struct {
	Err     error
	Checked []string
}

// CheckBucketAccess implements service.AccessChecker.
func (a *AccessChecker) CheckBucketAccess(_ context.Context, b *atlas.ExportBucket) error {
	a.Checked = append(a.Checked, b.BucketName)
	return a.Err
}
