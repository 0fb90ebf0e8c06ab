// Package restorejob runs restore jobs, snapex's server-side form of
// `snapex restore`: it opens the export through the bucket's access role
// (package stores), connects to a configured cluster and runs the restore
// engine under the job runner's lease, keeping progress in the store so a
// job taken over after a crash continues batch for batch.
package restorejob

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
)

// Runner does the work of restore jobs; the job runner leases, counts,
// retries and finishes them.
type Runner struct {
	Store        *store.Store
	Catalog      *config.Catalog
	Destinations *stores.Destinations
	// Opener opens sources named by URL (defaults to Destinations').
	Opener *stores.Opener
	// Parallelism is how many data files one job loads at once (the
	// engine's default when 0).
	Parallelism int
	// ServerSelectionTimeout bounds finding the target (30 s when 0).
	ServerSelectionTimeout time.Duration
	// AfterBatch, when set, is given to the engine (tests pace jobs).
	AfterBatch func(key string, docs int64)
	Log        *slog.Logger
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

// Kind is the restore job kind for the job runner.
func (r *Runner) Kind() *jobs.Kind {
	return &jobs.Kind{Table: store.RestoreJobs, Work: r.work, Retryable: retryable, Fail: r.fail, Cancel: r.cancel}
}

// retryable: the engine already retries writes after network errors and
// timeouts within an attempt; an attempt that still fails on them (the
// target or the bucket unreachable for long) gets another attempt, which
// resumes. Bad input, refused writes and count mismatches do not.
func retryable(err error) bool {
	return mongo.IsNetworkError(err) || mongo.IsTimeout(err) || errors.Is(err, mongo.ErrClientDisconnected) ||
		errors.Is(err, context.DeadlineExceeded) || errors.Is(err, blob.ErrTransient)
}

func (r *Runner) work(ctx context.Context, a *jobs.Attempt) error {
	j, err := r.Store.RestoreJobByID(ctx, a.ID)
	if err != nil {
		return err
	}
	if _, err := r.Store.UpdateRestoreJobAs(ctx, a.ID, a.Owner, func(j *atlas.RestoreJob) error {
		j.State = atlas.ExportInProgress
		return nil
	}); err != nil {
		return err
	}
	src, prefix, name, err := r.openSource(ctx, j)
	if err != nil {
		return err
	}
	defer src.Close()
	client, err := r.connect(j)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.WithoutCancel(ctx)) //nolint:errcheck
	e := &restore.Engine{
		Source: src, Prefix: prefix, SourceName: name, Client: client,
		Progress:   &storeProgress{st: r.Store, job: a.ID, owner: a.Owner},
		Options:    engineOptions(j, r.Parallelism),
		Log:        r.log().With("restoreJob", a.ID),
		AfterBatch: r.AfterBatch,
	}
	report, runErr := e.Run(ctx)
	var rb []byte
	if report != nil {
		if rb, err = json.Marshal(report); err != nil {
			return fmt.Errorf("restore job %s: encode report: %w", a.ID, err)
		}
	}
	rctx := context.WithoutCancel(ctx)
	if runErr != nil {
		// The report of a failed or interrupted attempt is kept for the
		// client; the runner then records the failure, the retry or the
		// cancellation.
		if rb != nil {
			_, _ = r.Store.UpdateRestoreJobAs(rctx, a.ID, a.Owner, func(j *atlas.RestoreJob) error { j.Report = rb; return nil })
		}
		return fmt.Errorf("restore job %s: %w", a.ID, runErr)
	}
	_, err = r.Store.UpdateRestoreJobAs(rctx, a.ID, a.Owner, func(j *atlas.RestoreJob) error {
		now := a.Now().UTC()
		j.State, j.Report, j.FinishedAt = atlas.ExportSuccessful, rb, &now
		return nil
	})
	if err == nil {
		r.log().Info("restore job successful", "restoreJob", a.ID, "target", j.TargetClusterName)
	}
	return err
}

// engineOptions turns the job's options into the engine's; a target
// database name is a rename of every namespace's database.
func engineOptions(j *atlas.RestoreJob, parallelism int) restore.Options {
	o := j.Options
	ns := restore.NamespaceOptions{Include: o.NsInclude, Exclude: o.NsExclude, From: o.NsFrom, To: o.NsTo}
	if j.TargetDatabaseName != "" {
		ns.From, ns.To = []string{"$db$.$coll$"}, []string{j.TargetDatabaseName + ".$coll$"}
	}
	return restore.Options{Namespaces: ns, Drop: o.Drop, Duplicates: restore.DuplicatePolicy(o.Duplicates), Parallelism: parallelism}
}

// openSource opens the export: an export job's bucket through its access
// role, or a URL with the named access role's credentials.
func (r *Runner) openSource(ctx context.Context, j *atlas.RestoreJob) (blob.Bucket, string, string, error) {
	if j.ExportJobID != "" {
		ex, err := r.Store.ExportJobByID(ctx, j.ExportJobID)
		if err != nil {
			return nil, "", "", fmt.Errorf("source export job: %w", err)
		}
		b, err := r.Store.GetBucket(ctx, ex.GroupID, ex.ExportBucketID)
		if err != nil {
			return nil, "", "", fmt.Errorf("bucket of export job %s: %w", ex.ID, err)
		}
		bucket, err := r.Destinations.Open(ctx, b)
		if err != nil {
			return nil, "", "", fmt.Errorf("open bucket %s of export job %s: %w", b.BucketName, ex.ID, err)
		}
		return bucket, ex.Prefix, fmt.Sprintf("export job %s (%s/%s)", ex.ID, b.BucketName, ex.Prefix), nil
	}
	role, ok := r.Catalog.AccessRole(j.GroupID, j.SourceRoleID)
	if !ok {
		return nil, "", "", fmt.Errorf("access role %s is no longer configured", j.SourceRoleID)
	}
	opener := r.Opener
	if opener == nil {
		opener = r.Destinations.Opener
	}
	if opener == nil {
		opener = &stores.Opener{}
	}
	creds := stores.Credentials{AWS: role.AWS, Azure: role.Azure, GCP: role.GCP, Local: role.Local}
	bucket, prefix, err := opener.OpenURL(ctx, j.SourceURL, creds)
	if err != nil {
		return nil, "", "", err
	}
	return bucket, prefix, j.SourceURL, nil
}

// connect reaches the target cluster through its configured connection
// string.
func (r *Runner) connect(j *atlas.RestoreJob) (*mongo.Client, error) {
	c, ok := r.Catalog.Cluster(j.GroupID, j.TargetClusterName)
	if !ok || len(c.ReplicaSets) == 0 {
		return nil, fmt.Errorf("target cluster %s is no longer configured", j.TargetClusterName)
	}
	uri := r.Catalog.ReplicaSetURI(j.GroupID, c.Name, c.ReplicaSets[0].Name)
	sst := r.ServerSelectionTimeout
	if sst <= 0 {
		sst = 30 * time.Second
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(sst))
	if err != nil {
		return nil, fmt.Errorf("connect to target cluster %s: %w", c.Name, err)
	}
	return client, nil
}

// fail records the job Failed with err as its reason.
func (r *Runner) fail(ctx context.Context, a *jobs.Attempt, err error) error {
	_, uerr := r.Store.UpdateRestoreJobAs(ctx, a.ID, a.Owner, func(j *atlas.RestoreJob) error {
		now := a.Now().UTC()
		j.State, j.FinishedAt = atlas.ExportFailed, &now
		j.StateReason = &atlas.StateReason{ErrorCode: string(atlas.CodeRestoreFailed), Message: err.Error()}
		return nil
	})
	return uerr
}

// cancel records the requested cancellation; what was loaded stays.
func (r *Runner) cancel(ctx context.Context, a *jobs.Attempt) error {
	_, err := r.Store.UpdateRestoreJobAs(ctx, a.ID, a.Owner, func(j *atlas.RestoreJob) error {
		now := a.Now().UTC()
		j.State, j.FinishedAt = atlas.ExportCancelled, &now
		return nil
	})
	return err
}

// NamespaceChecker checks restore jobs' namespace options with the
// engine's own parser (it satisfies service.NamespaceChecker).
type NamespaceChecker struct{}

// CheckNamespaces names the option and value the engine would refuse.
func (NamespaceChecker) CheckNamespaces(o atlas.RestoreOptions) (field, value string, err error) {
	return restore.CheckNamespaceOptions(restore.NamespaceOptions{Include: o.NsInclude, Exclude: o.NsExclude, From: o.NsFrom, To: o.NsTo})
}
