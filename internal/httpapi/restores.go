package httpapi

import (
	"encoding/json"
	"net/http"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// The restore-job extension, under
// …/clusters/{clusterName}/backup/snapexRestoreJobs: Atlas serves nothing
// there, so no Atlas client reaches it by accident (docs/restore.md,
// docs/api-compatibility.md). Jobs are listed under the cluster whose
// export they restore, as Atlas lists its restore jobs under the
// snapshot's cluster; the target is named in the body.

// restoreJobView is a restore job on the wire.
type restoreJobView struct {
	ID                 string              `json:"id"`
	ExportJobID        string              `json:"exportJobId,omitempty"`
	SourceURL          string              `json:"sourceUrl,omitempty"`
	SourceRoleID       string              `json:"sourceRoleId,omitempty"`
	TargetClusterName  string              `json:"targetClusterName"`
	TargetDatabaseName string              `json:"targetDatabaseName,omitempty"`
	NsInclude          []string            `json:"nsInclude"`
	NsExclude          []string            `json:"nsExclude"`
	NsFrom             []string            `json:"nsFrom"`
	NsTo               []string            `json:"nsTo"`
	Drop               bool                `json:"drop"`
	Duplicates         string              `json:"duplicates"`
	State              string              `json:"state"`
	StateReason        *atlas.StateReason  `json:"stateReason,omitempty"`
	Progress           restoreProgressView `json:"progress"`
	Report             json.RawMessage     `json:"report,omitempty"`
	CreatedAt          string              `json:"createdAt"`
	FinishedAt         string              `json:"finishedAt,omitempty"`
}

type restoreProgressView struct {
	DocumentsRestored int64 `json:"documentsRestored"`
	FilesDone         int   `json:"filesDone"`
	NamespacesDone    int   `json:"namespacesDone"`
}

func newRestoreJobView(j *atlas.RestoreJob) restoreJobView {
	o := j.Options
	v := restoreJobView{
		ID: j.ID, ExportJobID: j.ExportJobID, SourceURL: j.SourceURL, SourceRoleID: j.SourceRoleID,
		TargetClusterName: j.TargetClusterName, TargetDatabaseName: j.TargetDatabaseName,
		NsInclude: nonNilStrings(o.NsInclude), NsExclude: nonNilStrings(o.NsExclude), NsFrom: nonNilStrings(o.NsFrom), NsTo: nonNilStrings(o.NsTo),
		Drop: o.Drop, Duplicates: o.Duplicates, State: string(j.State), StateReason: j.StateReason,
		Progress:  restoreProgressView{DocumentsRestored: j.Progress.DocumentsRestored, FilesDone: j.Progress.FilesDone, NamespacesDone: j.Progress.NamespacesDone},
		CreatedAt: timestamp(j.CreatedAt),
	}
	if json.Valid(j.Report) {
		v.Report = j.Report
	}
	if j.FinishedAt != nil {
		v.FinishedAt = timestamp(*j.FinishedAt)
	}
	return v
}

func (s *Server) createRestore(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	o.ignore("links")
	var in service.RestoreInput
	for _, f := range []struct {
		name string
		dst  *string
	}{{"exportJobId", &in.ExportJobID}, {"sourceUrl", &in.SourceURL}, {"sourceRoleId", &in.SourceRoleID}, {"targetDatabaseName", &in.TargetDatabaseName}, {"duplicates", &in.Options.Duplicates}} {
		if *f.dst, aerr = o.str(f.name); aerr != nil {
			return aerr
		}
	}
	if in.TargetClusterName, aerr = o.requiredStr("targetClusterName"); aerr != nil {
		return aerr
	}
	for _, f := range []struct {
		name string
		dst  *[]string
	}{{"nsInclude", &in.Options.NsInclude}, {"nsExclude", &in.Options.NsExclude}, {"nsFrom", &in.Options.NsFrom}, {"nsTo", &in.Options.NsTo}} {
		if *f.dst, aerr = o.strings(f.name); aerr != nil {
			return aerr
		}
	}
	if in.Options.Drop, _, aerr = o.boolean("drop"); aerr != nil {
		return aerr
	}
	if aerr := o.unknown(); aerr != nil {
		return aerr
	}
	j, err := s.Service.CreateRestoreJob(c.r.Context(), c.project, c.cluster, in)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusAccepted, newRestoreJobView(j))
	return nil
}

func (s *Server) listRestores(c *call) error {
	p, aerr := parsePaging(c.r)
	if aerr != nil {
		return aerr
	}
	list, total, err := s.Service.ListRestoreJobs(c.r.Context(), c.project.ID, c.cluster.Name, p.page)
	if err != nil {
		return err
	}
	views := make([]restoreJobView, 0, len(list))
	for _, j := range list {
		views = append(views, newRestoreJobView(j))
	}
	writePage(c.w, c.r, c.v, s.baseURL(c.r), p, views, len(views), total)
	return nil
}

func (s *Server) getRestore(c *call) error {
	j, err := s.Service.GetRestoreJob(c.r.Context(), c.project.ID, c.cluster.Name, c.r.PathValue("restoreJobId"))
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, newRestoreJobView(j))
	return nil
}

// cancelRestore answers 202 with the job as it stands: Cancelled at once
// when no worker had started it, else still InProgress until the worker
// stops after its current batches; 409 when it has already finished.
func (s *Server) cancelRestore(c *call) error {
	j, err := s.Service.CancelRestoreJob(c.r.Context(), c.project.ID, c.cluster.Name, c.r.PathValue("restoreJobId"))
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusAccepted, newRestoreJobView(j))
	return nil
}
