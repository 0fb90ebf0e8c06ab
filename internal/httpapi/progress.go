package httpapi

import "github.com/snapex/snapex/internal/atlas"

// exportProgressView is the snapexProgress extension of an export job:
// documents and BSON bytes exported and to export, and the runner's
// attempt record. Atlas clients ignore it.
type exportProgressView struct {
	DocumentsExported int64  `json:"documentsExported"`
	DocumentsTotal    int64  `json:"documentsTotal"`
	BytesExported     int64  `json:"bytesExported"`
	BytesTotal        int64  `json:"bytesTotal"`
	Attempt           int    `json:"attempt"`
	LastError         string `json:"lastError,omitempty"`
	NextAttemptAt     string `json:"nextAttemptAt,omitempty"`
	UpdatedAt         string `json:"updatedAt,omitempty"`
	// Components break a sharded cluster's export down by replica set,
	// as Atlas's components do.
	Components []componentProgressView `json:"components,omitempty"`
}

// componentProgressView is one replica set's share of an export.
type componentProgressView struct {
	ReplicaSetName    string `json:"replicaSetName"`
	DocumentsExported int64  `json:"documentsExported"`
	DocumentsTotal    int64  `json:"documentsTotal"`
	BytesExported     int64  `json:"bytesExported"`
	BytesTotal        int64  `json:"bytesTotal"`
}

// snapshotProgressView is the snapexProgress extension of a snapshot:
// documents and BSON bytes captured so far, collections done of those
// listed, and the runner's attempt record.
type snapshotProgressView struct {
	DocumentsCaptured int64  `json:"documentsCaptured"`
	BytesCaptured     int64  `json:"bytesCaptured"`
	CollectionsDone   int    `json:"collectionsDone"`
	CollectionsTotal  int    `json:"collectionsTotal"`
	Attempt           int    `json:"attempt"`
	LastError         string `json:"lastError,omitempty"`
	NextAttemptAt     string `json:"nextAttemptAt,omitempty"`
	UpdatedAt         string `json:"updatedAt,omitempty"`
}

// newExportProgressView is nil for a job no worker has started.
func newExportProgressView(j *atlas.ExportJob) *exportProgressView {
	p, a := j.Progress, j.Attempts
	if a.Count == 0 && p.IsZero() {
		return nil
	}
	v := &exportProgressView{
		DocumentsExported: p.Documents, DocumentsTotal: p.DocumentsTotal,
		BytesExported: p.Bytes, BytesTotal: p.BytesTotal,
		Attempt: a.Count, LastError: a.LastError,
		NextAttemptAt: optionalTimestamp(a.RetryAt), UpdatedAt: optionalTimestamp(p.UpdatedAt),
	}
	if j.State.Terminal() {
		v.NextAttemptAt = ""
	}
	for _, rs := range p.ReplicaSets {
		v.Components = append(v.Components, componentProgressView{ReplicaSetName: rs.ReplicaSet,
			DocumentsExported: rs.Documents, DocumentsTotal: rs.DocumentsTotal, BytesExported: rs.Bytes, BytesTotal: rs.BytesTotal})
	}
	return v
}

// newSnapshotProgressView is nil for a snapshot no worker has started
// (imported snapshots never have one).
func newSnapshotProgressView(sn *atlas.Snapshot) *snapshotProgressView {
	p, a := sn.Progress, sn.Attempts
	if a.Count == 0 && p.IsZero() {
		return nil
	}
	v := &snapshotProgressView{
		DocumentsCaptured: p.Documents, BytesCaptured: p.Bytes,
		CollectionsDone: p.Collections, CollectionsTotal: p.CollectionsTotal,
		Attempt: a.Count, LastError: a.LastError,
		NextAttemptAt: optionalTimestamp(a.RetryAt), UpdatedAt: optionalTimestamp(p.UpdatedAt),
	}
	if sn.Status == atlas.SnapshotCompleted || sn.Status == atlas.SnapshotFailed {
		v.NextAttemptAt = ""
	}
	return v
}
