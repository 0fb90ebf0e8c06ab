package queue

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// ErrLeaseHeld is what a Reaper's Work returns when another live worker
// holds the job; it is not a failure.
var ErrLeaseHeld = errors.New("queue: job is leased by another worker")

// Reaper takes over jobs whose worker died: every Interval it asks Find
// for jobs with an expired lease and runs Work on each here, at most
// cap(Slots) at a time. River would re-dispatch such jobs too, but only
// after its rescue delay; leases make recovery take seconds and keep two
// workers off one job.
type Reaper struct {
	Name     string
	Find     func(ctx context.Context, now time.Time) ([]string, error)
	Work     func(ctx context.Context, id string) error
	Interval time.Duration
	Slots    chan struct{}
	Log      *slog.Logger
}

// Run reaps until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	t := time.NewTicker(r.Interval)
	defer t.Stop()
	for {
		r.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *Reaper) once(ctx context.Context) {
	ids, err := r.Find(ctx, time.Now())
	if err != nil {
		r.Log.Warn("look for abandoned jobs", "kind", r.Name, "err", err)
		return
	}
	for _, id := range ids {
		select {
		case r.Slots <- struct{}{}:
		default:
			return // busy; the next tick or another replica takes the rest
		}
		go func() {
			defer func() { <-r.Slots }()
			r.Log.Info("taking over abandoned job", "kind", r.Name, "id", id)
			if err := r.Work(ctx, id); err != nil && !errors.Is(err, ErrLeaseHeld) && ctx.Err() == nil {
				r.Log.Warn("taken-over job attempt failed", "kind", r.Name, "id", id, "err", err)
			}
		}()
	}
}
