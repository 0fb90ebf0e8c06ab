package atlas

import "time"

// RestoreJob is snapex's restore extension: it loads an export (one of
// the project's export jobs, or a bucket URL read with an access role)
// into a configured cluster. It moves through the export job's states.
type RestoreJob struct {
	ID      string
	GroupID string
	// ClusterName is the cluster the restore is listed under: the source
	// export's cluster, as Atlas lists restore jobs under the snapshot's.
	ClusterName string
	// ExportJobID names the source when it is an export job of the
	// project; otherwise SourceURL and SourceRoleID do.
	ExportJobID  string
	SourceURL    string
	SourceRoleID string
	// TargetClusterName is a configured cluster of the project; its
	// connection string never crosses the API.
	TargetClusterName string
	// TargetDatabaseName, when set, restores every namespace into this
	// database.
	TargetDatabaseName string
	Options            RestoreOptions
	State              ExportState
	StateReason        *StateReason
	Progress           RestoreProgress
	// Report is the restore engine's report as JSON, once it ran.
	Report     []byte
	CreatedAt  time.Time
	FinishedAt *time.Time
}

// RestoreOptions select, rename and merge namespaces (mongorestore's
// nsInclude/nsExclude/nsFrom/nsTo, drop and the duplicate policy).
type RestoreOptions struct {
	NsInclude  []string `json:"nsInclude,omitempty"`
	NsExclude  []string `json:"nsExclude,omitempty"`
	NsFrom     []string `json:"nsFrom,omitempty"`
	NsTo       []string `json:"nsTo,omitempty"`
	Drop       bool     `json:"drop,omitempty"`
	Duplicates string   `json:"duplicates,omitempty"`
}

// RestoreProgress counts what a restore job has loaded so far.
type RestoreProgress struct {
	DocumentsRestored int64
	FilesDone         int
	NamespacesDone    int
}

// Duplicate policies of a restore job (the restore engine's).
const (
	DuplicatesFail   = "fail"
	DuplicatesSkip   = "skip"
	DuplicatesUpsert = "upsert"
)
