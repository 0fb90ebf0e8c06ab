package httpapi

import "net/http"

// cancelExport is snapex's export-cancel extension, DELETE
// …/clusters/{clusterName}/backup/exports/{exportId}: 202 with the job as it
// stands (Cancelled at once when it had not started, else still InProgress
// until its next chunk boundary). Atlas serves no DELETE on this path, so
// no Atlas client sends it by accident; it needs the role that creating an
// export needs (docs/api-compatibility.md).
func (s *Server) cancelExport(c *call) error {
	j, err := s.Service.CancelExportJob(c.r.Context(), c.project.ID, c.cluster.Name, c.r.PathValue("exportId"))
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusAccepted, exportJobFor(c, j))
	return nil
}
