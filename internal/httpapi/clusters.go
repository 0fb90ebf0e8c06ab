package httpapi

import (
	"net/http"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

// clusterView carries the cluster fields Atlas clients read before backup
// calls (ClusterDescription20240805, abridged to what snapex knows).
type clusterView struct {
	BackupEnabled       bool          `json:"backupEnabled"`
	ClusterType         string        `json:"clusterType"`
	GroupID             string        `json:"groupId"`
	ID                  string        `json:"id"`
	Labels              []atlas.Label `json:"labels"`
	Links               []link        `json:"links"`
	MongoDBMajorVersion string        `json:"mongoDBMajorVersion,omitempty"`
	MongoDBVersion      string        `json:"mongoDBVersion,omitempty"`
	Name                string        `json:"name"`
	Paused              bool          `json:"paused"`
	// ProviderBackupEnabled is the v1.0 flag for Cloud Backup.
	ProviderBackupEnabled *bool  `json:"providerBackupEnabled,omitempty"`
	StateName             string `json:"stateName"`
}

func (s *Server) newClusterView(r *http.Request, c atlas.Cluster) clusterView {
	labels := c.Labels
	if labels == nil {
		labels = []atlas.Label{}
	}
	v := clusterView{
		BackupEnabled: true, ClusterType: string(c.Type), GroupID: c.GroupID, ID: c.ID(),
		Labels: labels, MongoDBVersion: c.MongoDBVersion, Name: c.Name, StateName: "IDLE",
		Links: []link{{Href: s.origin(r) + apiRoot(r) + "/groups/" + c.GroupID + "/clusters/" + c.Name, Rel: "self"}},
	}
	if parts := strings.SplitN(c.MongoDBVersion, ".", 3); len(parts) >= 2 {
		v.MongoDBMajorVersion = parts[0] + "." + parts[1]
	}
	return v
}

func (s *Server) listClusters(c *call) error {
	p, aerr := parsePaging(c.r)
	if aerr != nil {
		return aerr
	}
	page, total := s.Service.ListClusters(c.project.ID, p.page)
	views := make([]clusterView, 0, len(page))
	for _, cl := range page {
		views = append(views, s.clusterFor(c, cl))
	}
	writePage(c.w, c.r, c.v, s.baseURL(c.r), p, views, len(views), total)
	return nil
}

func (s *Server) getCluster(c *call) error {
	writeResource(c.w, c.r, c.v, http.StatusOK, s.clusterFor(c, c.cluster))
	return nil
}
