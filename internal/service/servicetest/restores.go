package servicetest

import (
	"context"
	"sync"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// Restores is an in-memory service.RestoreJobs. Its zero value is ready;
// it is safe for concurrent use. A cancellation of a job ends it
// Cancelled at once, as the store does for a job no worker holds.
type Restores struct {
	mu   sync.Mutex
	jobs []*atlas.RestoreJob
}

var _ service.RestoreJobs = (*Restores)(nil)

// CreateRestoreJob implements service.RestoreJobs.
func (r *Restores) CreateRestoreJob(_ context.Context, j *atlas.RestoreJob) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, clone(j))
	return nil
}

// GetRestoreJob implements service.RestoreJobs.
func (r *Restores) GetRestoreJob(_ context.Context, groupID, cluster, id string) (*atlas.RestoreJob, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.GroupID == groupID && j.ClusterName == cluster && j.ID == id {
			return clone(j), nil
		}
	}
	return nil, notFound("restore job", id)
}

// ListRestoreJobs implements service.RestoreJobs.
func (r *Restores) ListRestoreJobs(_ context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.RestoreJob, int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var all []*atlas.RestoreJob
	for _, j := range r.jobs {
		if j.GroupID == groupID && j.ClusterName == cluster {
			all = append(all, clone(j))
		}
	}
	out, total := page(all, p)
	return out, total, nil
}

// RequestRestoreCancel implements service.RestoreJobs.
func (r *Restores) RequestRestoreCancel(_ context.Context, id string, now time.Time) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.ID == id && j.State.Active() {
			j.State, j.FinishedAt = atlas.ExportCancelled, &now
		}
	}
	return nil
}

// SetRestoreState moves a job to state (tests of finished jobs).
func (r *Restores) SetRestoreState(id string, state atlas.ExportState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, j := range r.jobs {
		if j.ID == id {
			j.State = state
		}
	}
}
