package service

import (
	"context"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
)

// The interfaces below report a missing resource or a broken rule by
// returning (wrapped) the atlas.Conflict it is: atlas.NotFound from every
// lookup, and the conflicts named on each method.

// Buckets stores export buckets.
type Buckets interface {
	CreateBucket(ctx context.Context, b *atlas.ExportBucket) error
	GetBucket(ctx context.Context, groupID, id string) (*atlas.ExportBucket, error)
	ListBuckets(ctx context.Context, groupID string, provider atlas.Provider, p atlas.Page) ([]*atlas.ExportBucket, int, error)
	SetBucketPrivateNetworking(ctx context.Context, groupID, id string, v bool) (*atlas.ExportBucket, error)
	// DeleteBucket fails with atlas.BucketInUse while an active export
	// writes it or an active restore job reads one of its exports, and with
	// *atlas.BucketScheduled (also a BucketInUse) while backup schedules'
	// automatic export names it.
	DeleteBucket(ctx context.Context, groupID, id string) error
}

// Snapshots stores snapshot records.
type Snapshots interface {
	GetSnapshot(ctx context.Context, groupID, cluster, id string) (*atlas.Snapshot, error)
	ListSnapshots(ctx context.Context, groupID, cluster string, kind atlas.SnapshotKind, p atlas.Page) ([]*atlas.Snapshot, int, error)
	// CreateQueuedSnapshot stores a queued on-demand snapshot and, in the
	// same transaction, schedules taking it; atlas.UnfinishedSnapshot when the
	// cluster already has one that has not finished.
	CreateQueuedSnapshot(ctx context.Context, sn *atlas.Snapshot, retentionDays int, queuedAt time.Time) error
	UpdateSnapshot(ctx context.Context, id string, fn func(*atlas.Snapshot) error) (*atlas.Snapshot, error)
	DeleteSnapshot(ctx context.Context, groupID, cluster, id string) error
	ExpiredSnapshots(ctx context.Context, now time.Time) ([]*atlas.Snapshot, error)
}

// ExportJobs stores export jobs.
type ExportJobs interface {
	// CreateExportJob stores a queued job and, in the same transaction,
	// schedules its processing; atlas.ActiveExportExists when the snapshot
	// already has an active job, atlas.PrefixTaken when the prefix is in use
	// in the bucket, atlas.NotFound when the bucket is gone.
	CreateExportJob(ctx context.Context, j *atlas.ExportJob) error
	GetExportJob(ctx context.Context, groupID, cluster, id string) (*atlas.ExportJob, error)
	ListExportJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.ExportJob, int, error)
	// ActiveExportJobsForSnapshot lists the ids of the snapshot's queued
	// or running jobs.
	ActiveExportJobsForSnapshot(ctx context.Context, snapshotID string) ([]string, error)
	// RequestExportCancel asks a job to stop at its next chunk boundary.
	// reason becomes the Cancelled job's stateReason.
	RequestExportCancel(ctx context.Context, id string, now time.Time, reason atlas.StateReason) error
}

// Schedules stores backup schedules and what scheduled snapshots record
// beyond the common snapshot fields.
type Schedules interface {
	// GetSchedule returns a cluster's stored schedule and the last slot it
	// served.
	GetSchedule(ctx context.Context, groupID, cluster string) (*atlas.Schedule, time.Time, error)
	// CreateScheduleIfAbsent stores sch unless the cluster has a schedule
	// (replicas creating it at once: the first wins).
	CreateScheduleIfAbsent(ctx context.Context, sch *atlas.Schedule, lastSlot, now time.Time) error
	// SaveSchedule replaces a stored schedule; the last slot moves forward
	// to lastSlot, never back.
	SaveSchedule(ctx context.Context, sch *atlas.Schedule, lastSlot, now time.Time) error
	// CreateScheduledSnapshot moves the schedule's last slot from prevSlot
	// to meta.ScheduledFor and stores the queued snapshot, scheduling
	// taking it, in one transaction; atlas.SlotTaken when another process
	// took the slot.
	CreateScheduledSnapshot(ctx context.Context, sn *atlas.Snapshot, meta atlas.ScheduledSnapshot, prevSlot time.Time, retentionDays int) error
	// SnapshotByID returns a snapshot of any cluster and its retention in days.
	SnapshotByID(ctx context.Context, id string) (*atlas.Snapshot, int, error)
	// ScheduledSnapshotOf returns a snapshot's schedule facts (zero
	// ScheduledFor for an on-demand one).
	ScheduledSnapshotOf(ctx context.Context, id string) (atlas.ScheduledSnapshot, error)
	// ScheduledSnapshotsOf maps a cluster's scheduled snapshots' ids to their facts.
	ScheduledSnapshotsOf(ctx context.Context, groupID, cluster string) (map[string]atlas.ScheduledSnapshot, error)
	// SnapshotPolicyItems maps the scheduled snapshots among ids to the
	// policy item ids they serve.
	SnapshotPolicyItems(ctx context.Context, ids []string) (map[string][]string, error)
	// PendingAutoExports lists completed scheduled snapshots whose
	// automatic export is neither created nor dropped.
	PendingAutoExports(ctx context.Context) ([]string, error)
	// CreateAutoExportJob is CreateExportJob that also marks the
	// snapshot's automatic export created; atlas.AutoExportTaken when it
	// already was.
	CreateAutoExportJob(ctx context.Context, j *atlas.ExportJob) error
	// DropAutoExport settles a snapshot's automatic export without a job.
	DropAutoExport(ctx context.Context, snapshotID string) error
}

// Repository is everything the rules read and write.
type Repository interface {
	Buckets
	Snapshots
	ExportJobs
	Schedules
}

// Catalog is the configured organizations, projects, clusters and access
// roles.
type Catalog interface {
	Organization(id string) (atlas.Organization, bool)
	Project(id string) (atlas.Project, bool)
	Cluster(groupID, name string) (atlas.Cluster, bool)
	Clusters(groupID string) []atlas.Cluster
	// AllClusters lists every project's clusters (scheduling passes visit them).
	AllClusters() []atlas.Cluster
	AccessRole(groupID, id string) (*config.AccessRole, bool)
}

// SnapshotData removes a snapshot's stored data.
type SnapshotData interface {
	Delete(ctx context.Context, snapshotID string) error
}

// AccessChecker proves snapex can write into a bucket with the access
// role's credentials (by writing the .permissioncheck object).
type AccessChecker interface {
	CheckBucketAccess(ctx context.Context, b *atlas.ExportBucket) error
}

// RestoreJobs stores restore jobs (snapex's restore extension).
type RestoreJobs interface {
	// CreateRestoreJob stores a queued job and, in the same transaction,
	// schedules its processing.
	CreateRestoreJob(ctx context.Context, j *atlas.RestoreJob) error
	GetRestoreJob(ctx context.Context, groupID, cluster, id string) (*atlas.RestoreJob, error)
	ListRestoreJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.RestoreJob, int, error)
	// RequestRestoreCancel asks a job to stop after its current batches.
	RequestRestoreCancel(ctx context.Context, id string, now time.Time) error
}

// NamespaceChecker checks a restore job's namespace options as the
// restore engine will read them; it names the offending field.
type NamespaceChecker interface {
	CheckNamespaces(o atlas.RestoreOptions) (field, value string, err error)
}
