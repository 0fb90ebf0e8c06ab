package httpapi

import (
	"net/http"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// exportJobView is DiskBackupExportJob.
type exportJobView struct {
	Components []atlas.ExportComponent `json:"components,omitempty"`
	CreatedAt  string                  `json:"createdAt"`
	CustomData []atlas.Label           `json:"customData"`
	// ErrMsg is v1.0's reason for a failed job (v2 has stateReason).
	ErrMsg         string             `json:"errMsg,omitempty"`
	ExportBucketID string             `json:"exportBucketId"`
	ExportStatus   exportStatusView   `json:"exportStatus"`
	FinishedAt     string             `json:"finishedAt,omitempty"`
	ID             string             `json:"id"`
	Prefix         string             `json:"prefix"`
	SnapshotID     string             `json:"snapshotId"`
	State          string             `json:"state"`
	StateReason    *atlas.StateReason `json:"stateReason,omitempty"`
	// SnapexOptions is snapex's extension, present only on jobs created
	// with it, so plain jobs render exactly as Atlas's.
	SnapexOptions *atlas.ExportOptions `json:"snapexOptions,omitempty"`
	// SnapexProgress is how far the job got and its attempts; a snapex
	// extension (docs/api-compatibility.md).
	SnapexProgress *exportProgressView `json:"snapexProgress,omitempty"`
}

type exportStatusView struct {
	ExportedCollections int `json:"exportedCollections"`
	TotalCollections    int `json:"totalCollections"`
}

func newExportJobView(j *atlas.ExportJob) exportJobView {
	v := exportJobView{
		Components: j.Components, CreatedAt: timestamp(j.CreatedAt), CustomData: j.CustomData,
		ExportBucketID: j.ExportBucketID, ID: j.ID, Prefix: j.Prefix, SnapshotID: j.SnapshotID,
		State: string(j.State), StateReason: j.StateReason, SnapexOptions: j.Options,
		ExportStatus:   exportStatusView{ExportedCollections: j.ExportedCollections, TotalCollections: j.TotalCollections},
		SnapexProgress: newExportProgressView(j),
	}
	if v.CustomData == nil {
		v.CustomData = []atlas.Label{}
	}
	if j.FinishedAt != nil {
		v.FinishedAt = timestamp(*j.FinishedAt)
	}
	return v
}

func (s *Server) listExports(c *call) error {
	p, aerr := parsePaging(c.r)
	if aerr != nil {
		return aerr
	}
	list, total, err := s.Service.ListExportJobs(c.r.Context(), c.project.ID, c.cluster.Name, p.page)
	if err != nil {
		return err
	}
	views := make([]exportJobView, 0, len(list))
	for _, j := range list {
		views = append(views, exportJobFor(c, j))
	}
	writePage(c.w, c.r, c.v, s.baseURL(c.r), p, views, len(views), total)
	return nil
}

func (s *Server) getExport(c *call) error {
	j, err := s.Service.GetExportJob(c.r.Context(), c.project.ID, c.cluster.Name, c.r.PathValue("exportId"))
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, exportJobFor(c, j))
	return nil
}

func (s *Server) createExport(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	var in service.ExportInput
	o.ignore("links")
	if in.SnapshotID, aerr = o.requiredStr("snapshotId"); aerr != nil {
		return aerr
	}
	if in.ExportBucketID, aerr = o.requiredStr("exportBucketId"); aerr != nil {
		return aerr
	}
	if in.CustomData, aerr = o.labels("customData"); aerr != nil {
		return aerr
	}
	if in.Options, aerr = o.exportOptions("snapexOptions"); aerr != nil {
		return aerr
	}
	if aerr := o.unknown(); aerr != nil {
		return aerr
	}
	j, err := s.Service.CreateExportJob(c.r.Context(), c.project, c.cluster, in)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, exportJobFor(c, j))
	return nil
}
