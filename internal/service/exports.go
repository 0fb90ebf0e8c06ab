package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// ExportInput is a decoded create-export-job request.
type ExportInput struct {
	SnapshotID     string
	ExportBucketID string
	CustomData     []atlas.Label
	// Options are snapexOptions (nil for a plain Atlas export).
	Options *atlas.ExportOptions
}

// CreateExportJob validates the request against the project, cluster,
// snapshot and bucket, and stores a Queued job (enqueueing its processing
// in the same transaction when EnqueueExport is set).
func (s *Service) CreateExportJob(ctx context.Context, project atlas.Project, cluster atlas.Cluster, in ExportInput) (*atlas.ExportJob, error) {
	return s.createExportJob(ctx, project, cluster, in, false)
}

// createExportJob is CreateExportJob; auto creates a scheduled snapshot's
// automatic export, claiming it in the transaction creating the job
// (atlas.AutoExportTaken, wrapped, when it was already created).
func (s *Service) createExportJob(ctx context.Context, project atlas.Project, cluster atlas.Cluster, in ExportInput, auto bool) (*atlas.ExportJob, error) {
	if !atlas.ValidObjectID(in.SnapshotID) {
		return nil, atlas.ErrInvalidAttribute("snapshotId", in.SnapshotID, "a 24-hexadecimal-character snapshot id is expected")
	}
	if !atlas.ValidObjectID(in.ExportBucketID) {
		return nil, atlas.ErrInvalidAttribute("exportBucketId", in.ExportBucketID, "a 24-hexadecimal-character export bucket id is expected")
	}
	if err := atlas.ValidateCustomData(in.CustomData); err != nil {
		return nil, err
	}
	if in.Options != nil {
		if err := in.Options.Normalize(); err != nil {
			return nil, err
		}
	}
	if _, err := s.GetBucket(ctx, project.ID, in.ExportBucketID); err != nil {
		return nil, err
	}
	snap, err := s.Repo.GetSnapshot(ctx, project.ID, cluster.Name, in.SnapshotID)
	if isNotFound(err) {
		return nil, atlas.ErrSnapshotNotFound(in.SnapshotID, cluster.Name)
	}
	if err != nil {
		return nil, internal("create export job", err)
	}
	if snap.Status != atlas.SnapshotCompleted {
		return nil, atlas.ErrInvalidAttribute("snapshotId", in.SnapshotID,
			fmt.Sprintf("the snapshot is %s; only completed snapshots can be exported", snap.Status))
	}
	now := s.now()
	job := &atlas.ExportJob{
		ID: atlas.NewObjectID(now), GroupID: project.ID, ClusterName: cluster.Name,
		SnapshotID: snap.ID, ExportBucketID: in.ExportBucketID, CustomData: in.CustomData, Options: in.Options,
		State: atlas.ExportQueued, CreatedAt: now.Truncate(1e9),
	}
	prefix := s.prefixer(ctx, project, cluster)
	job.Prefix = prefix(snap.CreatedAt, now)
	if snap.Kind == atlas.ShardedClusterSnapshot {
		for _, m := range snap.Members {
			job.Components = append(job.Components, atlas.ExportComponent{ExportID: atlas.NewObjectID(now), ReplicaSetName: m.ReplicaSetName})
		}
	}
	// Atlas's prefix ends in the job's creation second; two jobs into one
	// bucket for snapshots of the same minute, created in the same second,
	// would share it and overwrite each other's files. The later job's
	// timestamp moves on a second until its prefix is its own.
	create := s.Repo.CreateExportJob
	if auto {
		create = s.Repo.CreateAutoExportJob
	}
	for bump := 1; ; bump++ {
		err = create(ctx, job)
		if !errors.Is(err, atlas.PrefixTaken) || bump > 600 {
			break
		}
		job.Prefix = prefix(snap.CreatedAt, now.Add(time.Duration(bump)*time.Second))
	}
	switch {
	case err == nil:
		return job, nil
	case errors.Is(err, atlas.ActiveExportExists):
		return nil, atlas.ErrExportAlreadyInProgress(snap.ID)
	case isNotFound(err):
		return nil, atlas.ErrExportBucketNotFound(in.ExportBucketID)
	}
	return nil, internal("create export job", err)
}

// GetExportJob returns one export job of a cluster.
func (s *Service) GetExportJob(ctx context.Context, groupID, cluster, id string) (*atlas.ExportJob, error) {
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidPathParameter("exportId", id)
	}
	j, err := s.Repo.GetExportJob(ctx, groupID, cluster, id)
	if isNotFound(err) {
		return nil, atlas.ErrExportJobNotFound(id)
	}
	if err != nil {
		return nil, internal("get export job", err)
	}
	return j, nil
}

// ListExportJobs returns a page of a cluster's export jobs.
func (s *Service) ListExportJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.ExportJob, int, error) {
	out, total, err := s.Repo.ListExportJobs(ctx, groupID, cluster, p)
	if err != nil {
		return nil, 0, internal("list export jobs", err)
	}
	return out, total, nil
}
