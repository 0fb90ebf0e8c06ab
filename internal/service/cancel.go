package service

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
)

// CancelExportJob asks a Queued or InProgress export job to stop: a queued
// job no worker holds ends Cancelled at once, a running one at its next
// chunk boundary. Objects already written stay in the bucket and no
// .complete marker is written. A job that has already ended is a 409.
func (s *Service) CancelExportJob(ctx context.Context, groupID, cluster, id string) (*atlas.ExportJob, error) {
	j, err := s.GetExportJob(ctx, groupID, cluster, id)
	if err != nil {
		return nil, err
	}
	switch j.State {
	case atlas.ExportSuccessful, atlas.ExportFailed, atlas.ExportCancelled:
		return nil, atlas.ErrExportJobFinished(id, string(j.State))
	}
	if err := s.Repo.RequestExportCancel(ctx, id, s.now(), atlas.CancelledByUser()); err != nil {
		return nil, internal("cancel export job", err)
	}
	return s.GetExportJob(ctx, groupID, cluster, id)
}
