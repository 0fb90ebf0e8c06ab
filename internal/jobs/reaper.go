package jobs

import (
	"context"
	"time"
)

// Reaper takes over jobs of one kind whose worker died: every Interval it
// lists jobs with an expired lease, or queued (or due for retry) for
// longer than Grace without anyone leasing them, and runs each here, at
// most cap(Slots) at a time. River would re-dispatch such jobs too, but
// only after its rescue delay; leases make recovery take seconds and keep
// two workers off one job. Jobs waiting for their retry are not listed.
type Reaper struct {
	Runner *Runner
	Kind   *Kind
	// Interval is how often to look (a third of the lease TTL).
	Interval time.Duration
	// Grace is how long a queued job may stay unleased before it counts
	// as orphaned (its dispatch died with a process).
	Grace time.Duration
	// Slots is shared with the other reapers of the process.
	Slots chan struct{}
}

// Run reaps until ctx ends.
func (p *Reaper) Run(ctx context.Context) {
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	for {
		p.once(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Reaper) once(ctx context.Context) {
	r, name := p.Runner, p.Kind.Table.Name
	now := r.now()
	ids, err := r.Store.ExpiredLeases(ctx, p.Kind.Table, now, now.Add(-p.Grace))
	if err != nil {
		r.Log.Warn("look for abandoned jobs", "kind", name, "err", err)
		return
	}
	for _, id := range ids {
		select {
		case p.Slots <- struct{}{}:
		default:
			return // busy; the next tick or another replica takes the rest
		}
		go func() {
			defer func() { <-p.Slots }()
			r.Log.Info("taking over abandoned job", "kind", name, "job", id)
			if _, err := r.Run(ctx, p.Kind, id); err != nil && ctx.Err() == nil {
				r.Log.Warn("taken-over job", "kind", name, "job", id, "err", err)
			}
		}()
	}
}
