package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/snapex/snapex/internal/store"
)

// Runner works leased jobs of any kind for one process.
type Runner struct {
	Store *store.Store
	// Owner names this process in leases (host, pid, random).
	Owner string
	// Clock is the process's clock.
	Clock Clock
	// LeaseTTL is how long a lease lasts without renewal; it bounds how
	// long a dead worker's job waits for a successor. Renewed every third.
	LeaseTTL time.Duration
	// Retry bounds the attempts of every job.
	Retry Retry
	Log   *slog.Logger
	// Observer, when set, is told of attempts and job ends (metrics).
	Observer Observer
}

// Result says what became of a job after Run.
type Result struct {
	// Done is true when the job is finished (or gone): nothing is left to do.
	Done bool
	// Wait, when the job is not done, is when to look at it again: another
	// worker holds it, or it waits for a retry that worker scheduled.
	Wait time.Time
	// lost is set when this run's lease was taken over mid-run.
	lost bool
}

func (r *Runner) now() time.Time { return r.Clock().UTC() }

// Run works job id of kind k until it is finished: attempt after attempt,
// waiting the retry backoff between them while keeping the lease, so a job
// waiting for its retry is never mistaken for an abandoned one. It returns
// Done=false with Wait when another worker holds the job, and ctx's error
// when the process stops (the lease is then released for a successor).
func (r *Runner) Run(ctx context.Context, k *Kind, id string) (Result, error) {
	return r.run(ctx, k, id, false, false)
}

// RunAttempt makes one attempt at job id: nil when the job is finished
// or another worker took the lease over mid-attempt (it continues),
// ErrLeaseHeld when another worker holds it from the start, and the attempt's error when
// it failed and may be retried (the lease is released; the caller decides
// when to retry). final makes any failure end the job, as does the last of
// Retry.MaxAttempts counted attempts.
func (r *Runner) RunAttempt(ctx context.Context, k *Kind, id string, final bool) error {
	res, err := r.run(ctx, k, id, true, final)
	if err == nil && !res.Done && !res.lost {
		return ErrLeaseHeld
	}
	return err
}

func (r *Runner) run(ctx context.Context, k *Kind, id string, once, final bool) (Result, error) {
	if r.LeaseTTL <= 0 || r.Retry.MaxAttempts <= 0 || r.Clock == nil {
		return Result{}, fmt.Errorf("%s job %s: runner needs a clock, a lease TTL and a maximum of attempts", k.Table.Name, id)
	}
	now := r.now()
	l, err := r.Store.AcquireLease(ctx, k.Table, id, r.Owner, now, now.Add(r.LeaseTTL))
	if err != nil {
		return Result{}, fmt.Errorf("%s job %s: %w", k.Table.Name, id, err)
	}
	if !l.Active {
		return Result{Done: true}, nil
	}
	if !l.Acquired {
		// Nobody may start the job before its retry is due; otherwise
		// look again once the holder's lease could have expired.
		wait := now.Add(r.LeaseTTL)
		if l.RetryAt.After(now) {
			wait = l.RetryAt
		}
		return Result{Wait: wait}, nil
	}
	hbCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); r.heartbeat(hbCtx, cancel, k, id) }()
	stopHeartbeat := func() { cancel(nil); <-hbDone }
	defer stopHeartbeat()
	// Outcomes are recorded on a context that survives the work's.
	rctx := context.WithoutCancel(ctx)
	log := r.Log.With("kind", k.Table.Name, "job", id)
	obs, began := r.observer(), time.Now()
	// ended logs and observes the job's end once its state is recorded.
	ended := func(outcome Outcome) func(Result, error) (Result, error) {
		return func(res Result, err error) (Result, error) {
			if err == nil && res.Done && !res.lost {
				took := time.Since(began)
				log.Info("job ended", "outcome", string(outcome), "took", took.Round(time.Millisecond))
				obs.JobEnded(k.Table.Name, id, outcome, took)
			}
			return res, err
		}
	}
	for {
		n, err := r.Store.BeginAttempt(ctx, k.Table, id, r.Owner)
		if errors.Is(err, store.ErrLeaseLost) {
			return r.lost(rctx, k, id, log)
		}
		if err != nil {
			_ = r.Store.ReleaseLease(rctx, k.Table, id, r.Owner, false)
			return Result{}, fmt.Errorf("%s job %s: %w", k.Table.Name, id, err)
		}
		a := &Attempt{ID: id, Owner: r.Owner, Number: n, Final: final || r.Retry.final(n), Now: r.now}
		log.Info("job attempt", "attempt", n, "maxAttempts", r.Retry.MaxAttempts)
		obs.AttemptStarted(k.Table.Name, id, n)
		attemptBegan := time.Now()
		err = k.Work(hbCtx, a)
		cause := context.Cause(hbCtx)
		switch {
		case errors.Is(cause, store.ErrLeaseLost) || errors.Is(err, store.ErrLeaseLost):
			stopHeartbeat()
			return r.lost(rctx, k, id, log)
		case err == nil:
			stopHeartbeat()
			return ended(Succeeded)(r.finish(rctx, k, a, nil))
		case errors.Is(cause, ErrCancelRequested) || errors.Is(err, ErrCancelRequested):
			stopHeartbeat()
			return ended(Cancelled)(r.finish(rctx, k, a, k.Cancel))
		case ctx.Err() != nil:
			// The process is stopping: the attempt is handed back, not failed.
			stopHeartbeat()
			_ = r.Store.ReleaseLease(rctx, k.Table, id, r.Owner, true)
			return Result{}, ctx.Err()
		}
		if k.Cancel != nil {
			// A cancelled job's inputs may vanish under it; that is the
			// cancellation, not a failure.
			if c, rerr := r.Store.RenewLease(rctx, k.Table, id, r.Owner, r.now().Add(r.LeaseTTL)); rerr == nil && c {
				stopHeartbeat()
				return ended(Cancelled)(r.finish(rctx, k, a, k.Cancel))
			}
		}
		took, code := time.Since(attemptBegan), k.code(err)
		if k.Retryable == nil || !k.Retryable(err) || a.Final {
			log.Error("job attempt failed", "attempt", n, "maxAttempts", r.Retry.MaxAttempts, "final", true, "code", code, "took", took.Round(time.Millisecond), "err", err)
			obs.AttemptFailed(k.Table.Name, id, n, code, true, took)
			stopHeartbeat()
			return ended(Failed)(r.finish(rctx, k, a, func(ctx context.Context, a *Attempt) error { return k.Fail(ctx, a, err) }))
		}
		delay := r.Retry.Delay(n)
		if once {
			delay = 0
		}
		log.Warn("job attempt failed", "attempt", n, "maxAttempts", r.Retry.MaxAttempts, "final", false, "code", code, "took", took.Round(time.Millisecond), "retryIn", delay, "err", err)
		obs.AttemptFailed(k.Table.Name, id, n, code, false, took)
		if serr := r.Store.ScheduleRetry(rctx, k.Table, id, r.Owner, r.now().Add(delay), err.Error()); serr != nil {
			if errors.Is(serr, store.ErrLeaseLost) {
				stopHeartbeat()
				return r.lost(rctx, k, id, log)
			}
			log.Warn("record failed attempt", "err", serr)
		}
		if once {
			stopHeartbeat()
			_ = r.Store.ReleaseLease(rctx, k.Table, id, r.Owner, false)
			return Result{}, err
		}
		if res, over, werr := r.wait(ctx, hbCtx, rctx, k, a, delay, log, ended(Cancelled)); over {
			return res, werr
		}
	}
}

// wait sleeps delay under the lease before the next attempt; over reports
// that the job ended meanwhile (cancelled, lease lost, process stopping).
// cancelled records the end of a job cancelled while it waited.
func (r *Runner) wait(ctx, hbCtx, rctx context.Context, k *Kind, a *Attempt, delay time.Duration, log *slog.Logger,
	cancelled func(Result, error) (Result, error)) (res Result, over bool, err error) {
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-t.C:
		return Result{}, false, nil
	case <-hbCtx.Done():
	}
	cause := context.Cause(hbCtx)
	switch {
	case errors.Is(cause, ErrCancelRequested):
		res, err = cancelled(r.finish(rctx, k, a, k.Cancel))
		return res, true, err
	case errors.Is(cause, store.ErrLeaseLost):
		res, err = r.lost(rctx, k, a.ID, log)
		return res, true, err
	}
	// The process is stopping between attempts: the retry time stays, so
	// a successor waits for it too.
	_ = r.Store.ReleaseLease(rctx, k.Table, a.ID, r.Owner, false)
	return Result{}, true, ctx.Err()
}

// finish records the job's terminal state with record (nil when the work
// already did) and frees the lease.
func (r *Runner) finish(ctx context.Context, k *Kind, a *Attempt, record func(context.Context, *Attempt) error) (Result, error) {
	defer func() {
		if err := r.Store.ReleaseLease(ctx, k.Table, a.ID, r.Owner, false); err != nil {
			r.Log.Warn("release lease", "kind", k.Table.Name, "job", a.ID, "err", err)
		}
	}()
	if record != nil {
		if err := record(ctx, a); err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				return r.lost(ctx, k, a.ID, r.Log.With("kind", k.Table.Name, "job", a.ID))
			}
			return Result{}, fmt.Errorf("finish %s job %s: %w", k.Table.Name, a.ID, err)
		}
	}
	return Result{Done: true}, nil
}

// lost handles a lease taken by another worker: the job is finished, or
// that worker continues it.
func (r *Runner) lost(ctx context.Context, k *Kind, id string, log *slog.Logger) (Result, error) {
	if active, err := r.Store.JobActive(ctx, k.Table, id); err == nil && !active {
		return Result{Done: true}, nil
	}
	log.Warn("job lease lost; another worker continues")
	return Result{Wait: r.now().Add(r.LeaseTTL), lost: true}, nil
}

// heartbeat renews the lease every third of its lifetime; it cancels the
// work when the lease is lost or cancellation was requested.
func (r *Runner) heartbeat(ctx context.Context, cancel context.CancelCauseFunc, k *Kind, id string) {
	t := time.NewTicker(r.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c, err := r.Store.RenewLease(ctx, k.Table, id, r.Owner, r.now().Add(r.LeaseTTL))
		switch {
		case errors.Is(err, store.ErrLeaseLost):
			cancel(store.ErrLeaseLost)
			return
		case err != nil:
			if ctx.Err() == nil {
				r.Log.Warn("renew lease", "kind", k.Table.Name, "job", id, "err", err)
			}
		case c:
			cancel(ErrCancelRequested)
			return
		}
	}
}
