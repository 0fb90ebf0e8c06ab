package httpapi

import (
	"net/http"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// snapshotView is DiskBackupReplicaSet or DiskBackupShardedClusterSnapshot.
// cloudProvider, createdAt and mongodVersion appear once the snapshot is
// completed, as on real Atlas (behaviour notes §10).
type snapshotView struct {
	CloudProvider    string                 `json:"cloudProvider,omitempty"`
	ConfigServerType string                 `json:"configServerType,omitempty"`
	CopyRegions      *[]string              `json:"copyRegions,omitempty"`
	CreatedAt        string                 `json:"createdAt,omitempty"`
	Description      string                 `json:"description,omitempty"`
	ExpiresAt        string                 `json:"expiresAt,omitempty"`
	FrequencyType    string                 `json:"frequencyType,omitempty"`
	ID               string                 `json:"id"`
	Links            []link                 `json:"links"`
	Members          []atlas.SnapshotMember `json:"members,omitempty"`
	MongodVersion    string                 `json:"mongodVersion,omitempty"`
	PolicyItems      []string               `json:"policyItems"`
	ReplicaSetName   string                 `json:"replicaSetName,omitempty"`
	SnapshotIDs      []string               `json:"snapshotIds,omitempty"`
	SnapshotType     string                 `json:"snapshotType"`
	Status           string                 `json:"status"`
	StorageSizeBytes int64                  `json:"storageSizeBytes"`
	Type             string                 `json:"type"`
	// SnapexConsistency says which consistency guarantee a completed
	// snapshot obtained (pointInTime, oplog, none); a snapex extension.
	SnapexConsistency string `json:"snapexConsistency,omitempty"`
	// SnapexFailureReason says why a snapshot failed; a snapex extension.
	SnapexFailureReason string `json:"snapexFailureReason,omitempty"`
	// SnapexProgress is how far a capture got and its attempts; a snapex
	// extension.
	SnapexProgress *snapshotProgressView `json:"snapexProgress,omitempty"`
}

// reportedCloudProvider fills the provider fields Atlas's schema requires;
// self-managed deployments have none, so snapex reports AWS.
const reportedCloudProvider = "AWS"

func (s *Server) newSnapshotView(r *http.Request, c atlas.Cluster, sn *atlas.Snapshot) snapshotView {
	clusterURL := s.origin(r) + apiRoot(r) + "/groups/" + sn.GroupID + "/clusters/" + c.Name
	self := clusterURL + "/backup/snapshots/" + sn.ID
	if sn.Kind == atlas.ShardedClusterSnapshot {
		self = clusterURL + "/backup/snapshots/shardedCluster/" + sn.ID
	}
	v := snapshotView{
		Description: sn.Description, ExpiresAt: optionalTimestamp(sn.ExpiresAt), FrequencyType: sn.FrequencyType,
		ID: sn.ID, PolicyItems: nonNilStrings(sn.PolicyItems), SnapshotType: sn.SnapshotType, Status: string(sn.Status),
		StorageSizeBytes: sn.StorageSizeBytes, Type: string(sn.Kind), SnapexProgress: newSnapshotProgressView(sn),
		Links: []link{{Href: self, Rel: "self"}, {Href: clusterURL, Rel: "https://cloud.mongodb.com/cluster"}},
	}
	if sn.Status == atlas.SnapshotCompleted {
		v.CreatedAt, v.MongodVersion, v.SnapexConsistency = timestamp(sn.CreatedAt), sn.MongodVersion, sn.Consistency
	}
	if sn.Status == atlas.SnapshotFailed {
		v.SnapexFailureReason = sn.FailureReason
	}
	if sn.Kind == atlas.ShardedClusterSnapshot {
		v.ConfigServerType = "DEDICATED"
		v.Members = make([]atlas.SnapshotMember, 0, len(sn.Members))
		v.SnapshotIDs = make([]string, 0, len(sn.Members))
		for _, m := range sn.Members {
			m.CloudProvider = reportedCloudProvider
			v.Members = append(v.Members, m)
			v.SnapshotIDs = append(v.SnapshotIDs, m.ID)
		}
		return v
	}
	regions := []string{}
	v.CopyRegions, v.ReplicaSetName = &regions, sn.ReplicaSetName
	if sn.Status == atlas.SnapshotCompleted {
		v.CloudProvider = reportedCloudProvider
	}
	return v
}

func (s *Server) listReplicaSetSnapshots(c *call) error {
	return s.listSnapshots(c, atlas.ReplicaSetSnapshot)
}

func (s *Server) listShardedSnapshots(c *call) error {
	return s.listSnapshots(c, atlas.ShardedClusterSnapshot)
}

func (s *Server) listSnapshots(c *call, kind atlas.SnapshotKind) error {
	p, aerr := parsePaging(c.r)
	if aerr != nil {
		return aerr
	}
	list, total, err := s.Service.ListSnapshots(c.r.Context(), c.project.ID, c.cluster.Name, kind, p.page)
	if err != nil {
		return err
	}
	views := make([]snapshotView, 0, len(list))
	for _, sn := range list {
		views = append(views, s.newSnapshotView(c.r, c.cluster, sn))
	}
	writePage(c.w, c.r, c.v, s.baseURL(c.r), p, views, len(views), total)
	return nil
}

func (s *Server) getReplicaSetSnapshot(c *call) error {
	return s.getSnapshot(c, atlas.ReplicaSetSnapshot)
}

func (s *Server) getShardedSnapshot(c *call) error {
	return s.getSnapshot(c, atlas.ShardedClusterSnapshot)
}

func (s *Server) getSnapshot(c *call, kind atlas.SnapshotKind) error {
	sn, err := s.Service.GetSnapshot(c.r.Context(), c.project.ID, c.cluster.Name, kind, c.r.PathValue("snapshotId"))
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newSnapshotView(c.r, c.cluster, sn))
	return nil
}

func (s *Server) deleteReplicaSetSnapshot(c *call) error {
	return s.deleteSnapshot(c, atlas.ReplicaSetSnapshot)
}

func (s *Server) deleteShardedSnapshot(c *call) error {
	return s.deleteSnapshot(c, atlas.ShardedClusterSnapshot)
}

func (s *Server) deleteSnapshot(c *call, kind atlas.SnapshotKind) error {
	if err := s.Service.DeleteSnapshot(c.r.Context(), c.project.ID, c.cluster.Name, kind, c.r.PathValue("snapshotId")); err != nil {
		return err
	}
	writeNoContent(c.w, c.r, c.v)
	return nil
}

func (s *Server) takeSnapshot(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	o.ignore("links")
	desc, aerr := o.str("description")
	if aerr != nil {
		return aerr
	}
	days, _, aerr := o.integer("retentionInDays")
	if aerr != nil {
		return aerr
	}
	if aerr := o.unknown(); aerr != nil {
		return aerr
	}
	sn, err := s.Service.TakeSnapshot(c.r.Context(), c.cluster, desc, days)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newSnapshotView(c.r, c.cluster, sn))
	return nil
}

func (s *Server) patchSnapshot(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	o.ignore("links")
	unit, aerr := o.requiredStr("retentionUnit")
	if aerr != nil {
		return aerr
	}
	value, present, aerr := o.integer("retentionValue")
	if aerr != nil {
		return aerr
	}
	if !present {
		return atlas.ErrMissingAttribute("retentionValue")
	}
	if aerr := o.unknown(); aerr != nil {
		return aerr
	}
	sn, err := s.Service.UpdateRetention(c.r.Context(), c.project.ID, c.cluster.Name, atlas.ReplicaSetSnapshot, c.r.PathValue("snapshotId"), unit, value)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, s.newSnapshotView(c.r, c.cluster, sn))
	return nil
}

// timestamp formats times as Atlas does: UTC, second precision.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

func optionalTimestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return timestamp(t)
}
