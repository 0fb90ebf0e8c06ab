package service

import (
	"context"
	"net/url"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

// RestoreInput is a decoded create-restore-job request.
type RestoreInput struct {
	// ExportJobID names an export job of the path's cluster; otherwise
	// SourceURL and SourceRoleID name the export.
	ExportJobID        string
	SourceURL          string
	SourceRoleID       string
	TargetClusterName  string
	TargetDatabaseName string
	Options            atlas.RestoreOptions
}

// CreateRestoreJob validates the request against the project's exports,
// clusters and access roles and stores a Queued restore job (enqueueing
// its processing in the same transaction).
func (s *Service) CreateRestoreJob(ctx context.Context, project atlas.Project, cluster atlas.Cluster, in RestoreInput) (*atlas.RestoreJob, error) {
	if s.Restores == nil {
		return nil, atlas.ErrResourceNotFound("restore jobs")
	}
	job := &atlas.RestoreJob{GroupID: project.ID, ClusterName: cluster.Name, Options: in.Options}
	if err := s.restoreSource(ctx, project, cluster, in, job); err != nil {
		return nil, err
	}
	target, ok := s.Catalog.Cluster(project.ID, in.TargetClusterName)
	if !ok {
		return nil, atlas.ErrClusterNotFound(in.TargetClusterName, project.ID)
	}
	if target.Type == atlas.ShardedCluster {
		return nil, atlas.ErrInvalidAttribute("targetClusterName", in.TargetClusterName,
			"restore jobs load replica set clusters; sharded clusters are not supported as targets")
	}
	job.TargetClusterName = target.Name
	if err := checkRestoreOptions(s.Namespaces, in); err != nil {
		return nil, err
	}
	job.TargetDatabaseName = in.TargetDatabaseName
	if job.Options.Duplicates == "" {
		job.Options.Duplicates = atlas.DuplicatesFail
	}
	now := s.now()
	job.ID, job.State, job.CreatedAt = atlas.NewObjectID(now), atlas.ExportQueued, now.Truncate(1e9)
	if err := s.Restores.CreateRestoreJob(ctx, job); err != nil {
		return nil, internal("create restore job", err)
	}
	return job, nil
}

// restoreSource resolves the source: a Successful export job of the
// cluster, or a bucket URL with an access role of the project.
func (s *Service) restoreSource(ctx context.Context, project atlas.Project, cluster atlas.Cluster, in RestoreInput, job *atlas.RestoreJob) error {
	switch {
	case in.ExportJobID != "" && (in.SourceURL != "" || in.SourceRoleID != ""):
		return atlas.ErrInvalidAttribute("exportJobId", in.ExportJobID, "give either exportJobId or sourceUrl with sourceRoleId, not both")
	case in.ExportJobID != "":
		if !atlas.ValidObjectID(in.ExportJobID) {
			return atlas.ErrInvalidAttribute("exportJobId", in.ExportJobID, "a 24-hexadecimal-character export job id is expected")
		}
		ex, err := s.GetExportJob(ctx, project.ID, cluster.Name, in.ExportJobID)
		if err != nil {
			return err
		}
		if ex.State != atlas.ExportSuccessful {
			return atlas.ErrInvalidAttribute("exportJobId", in.ExportJobID,
				"the export job is "+string(ex.State)+"; only Successful exports can be restored")
		}
		job.ExportJobID = ex.ID
		return nil
	case in.SourceURL == "":
		return atlas.ErrMissingAttribute("exportJobId")
	case in.SourceRoleID == "":
		return atlas.ErrMissingAttribute("sourceRoleId")
	}
	u, err := url.Parse(in.SourceURL)
	if err != nil || u.Host == "" || (u.Scheme != "s3" && u.Scheme != "azure" && u.Scheme != "gs") {
		return atlas.ErrInvalidAttribute("sourceUrl", in.SourceURL, "an s3://, azure:// or gs:// URL of the export's prefix is expected")
	}
	// Endpoints come from the access role's configuration only: an API
	// caller must not point the server's credentials at a host of its
	// choosing.
	for _, k := range []string{"endpoint", "serviceUrl"} {
		if u.Query().Has(k) {
			return atlas.ErrInvalidAttribute("sourceUrl", in.SourceURL, "the "+k+" parameter is not accepted over the API; the access role's configuration sets it")
		}
	}
	if !atlas.ValidObjectID(in.SourceRoleID) {
		return atlas.ErrInvalidAttribute("sourceRoleId", in.SourceRoleID, "a 24-hexadecimal-character access role id is expected")
	}
	if _, ok := s.Catalog.AccessRole(project.ID, in.SourceRoleID); !ok {
		return atlas.ErrInvalidAttribute("sourceRoleId", in.SourceRoleID, "no such access role is configured in the project")
	}
	job.SourceURL, job.SourceRoleID = in.SourceURL, in.SourceRoleID
	return nil
}

// checkRestoreOptions validates the duplicate policy, the target
// database name and the namespace patterns.
func checkRestoreOptions(nc NamespaceChecker, in RestoreInput) error {
	o := in.Options
	switch o.Duplicates {
	case "", atlas.DuplicatesFail, atlas.DuplicatesSkip, atlas.DuplicatesUpsert:
	default:
		return atlas.ErrInvalidEnumValue("duplicates", o.Duplicates, "fail, skip or upsert")
	}
	if db := in.TargetDatabaseName; db != "" {
		if len(db) > 63 || strings.ContainsAny(db, "/\\. \"$*<>:|?\x00") {
			return atlas.ErrInvalidAttribute("targetDatabaseName", db, "a MongoDB database name is expected (at most 63 bytes, none of /\\. \"$*<>:|?)")
		}
		if db == "admin" || db == "local" || db == "config" {
			return atlas.ErrInvalidAttribute("targetDatabaseName", db, "the admin, local and config databases cannot be restored into")
		}
		if len(o.NsFrom) > 0 {
			return atlas.ErrInvalidAttribute("targetDatabaseName", db, "give either targetDatabaseName or nsFrom/nsTo, not both")
		}
	}
	if nc == nil {
		return nil
	}
	if field, value, err := nc.CheckNamespaces(o); err != nil {
		return atlas.ErrInvalidAttribute(field, value, err.Error())
	}
	return nil
}

// GetRestoreJob returns one restore job of a cluster.
func (s *Service) GetRestoreJob(ctx context.Context, groupID, cluster, id string) (*atlas.RestoreJob, error) {
	if s.Restores == nil {
		return nil, atlas.ErrRestoreJobNotFound(id)
	}
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidPathParameter("restoreJobId", id)
	}
	j, err := s.Restores.GetRestoreJob(ctx, groupID, cluster, id)
	if isNotFound(err) {
		return nil, atlas.ErrRestoreJobNotFound(id)
	}
	if err != nil {
		return nil, internal("get restore job", err)
	}
	return j, nil
}

// ListRestoreJobs returns a page of a cluster's restore jobs.
func (s *Service) ListRestoreJobs(ctx context.Context, groupID, cluster string, p atlas.Page) ([]*atlas.RestoreJob, int, error) {
	if s.Restores == nil {
		return nil, 0, nil
	}
	out, total, err := s.Restores.ListRestoreJobs(ctx, groupID, cluster, p)
	if err != nil {
		return nil, 0, internal("list restore jobs", err)
	}
	return out, total, nil
}

// CancelRestoreJob asks a Queued or InProgress restore job to stop: a
// queued job no worker holds ends Cancelled at once, a running one after
// its current batches (what is loaded stays in the target). A job that
// has already ended is a 409.
func (s *Service) CancelRestoreJob(ctx context.Context, groupID, cluster, id string) (*atlas.RestoreJob, error) {
	j, err := s.GetRestoreJob(ctx, groupID, cluster, id)
	if err != nil {
		return nil, err
	}
	if j.State.Terminal() {
		return nil, atlas.ErrRestoreJobFinished(id, string(j.State))
	}
	if err := s.Restores.RequestRestoreCancel(ctx, id, s.now()); err != nil {
		return nil, internal("cancel restore job", err)
	}
	return s.GetRestoreJob(ctx, groupID, cluster, id)
}
