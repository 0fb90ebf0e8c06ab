package atlas

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// Provider is a cloud provider name as Atlas spells it.
type Provider string

// Cloud providers an export bucket or access role can belong to.
const (
	AWS   Provider = "AWS"
	Azure Provider = "AZURE"
	GCP   Provider = "GCP"
)

// ParseProvider validates a provider name.
func ParseProvider(s string) (Provider, bool) {
	switch p := Provider(s); p {
	case AWS, Azure, GCP:
		return p, true
	}
	return "", false
}

// Organization is an Atlas organization.
type Organization struct {
	ID   string
	Name string
}

// Project is an Atlas project (a "group" in API paths).
type Project struct {
	ID    string
	OrgID string
	Name  string
}

// ClusterType is REPLICASET or SHARDED.
type ClusterType string

// Cluster types snapex serves.
const (
	ReplicaSetCluster ClusterType = "REPLICASET"
	ShardedCluster    ClusterType = "SHARDED"
)

// Label is a key/value pair (cluster labels, export customData).
type Label struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// ReplicaSet names one replica set of a cluster; for sharded clusters the
// config server replica set is one of them, marked ConfigServer.
type ReplicaSet struct {
	Name         string
	ConfigServer bool
}

// Cluster is a self-managed MongoDB deployment registered in the config.
type Cluster struct {
	GroupID     string
	Name        string
	Type        ClusterType
	ReplicaSets []ReplicaSet
	Labels      []Label
	// MongoDBVersion is what the config or the last snapshot reported.
	MongoDBVersion string
}

// AccessRole turns an Atlas iamRoleId/roleId into real credentials; only its
// identity and provider are domain facts, the credentials live in config.
type AccessRole struct {
	ID       string
	GroupID  string
	Provider Provider
}

// ExportBucket is a destination for export jobs.
type ExportBucket struct {
	ID                       string
	GroupID                  string
	BucketName               string
	CloudProvider            Provider
	RoleID                   string // iamRoleId for AWS, roleId for Azure and GCP
	ServiceURL               string // Azure only
	TenantID                 string // Azure only, deprecated
	Region                   string // AWS only
	RequirePrivateNetworking bool
	CreatedAt                time.Time
}

// SnapshotStatus is a snapshot's lower-camel status.
type SnapshotStatus string

// Snapshot statuses as Atlas spells them.
const (
	SnapshotQueued     SnapshotStatus = "queued"
	SnapshotInProgress SnapshotStatus = "inProgress"
	SnapshotCompleted  SnapshotStatus = "completed"
	SnapshotFailed     SnapshotStatus = "failed"
)

// SnapshotKind distinguishes replica-set from sharded-cluster snapshots.
type SnapshotKind string

// Snapshot kinds, as the "type" field spells them.
const (
	ReplicaSetSnapshot     SnapshotKind = "replicaSet"
	ShardedClusterSnapshot SnapshotKind = "shardedCluster"
)

// SnapshotMember is one replica set's part of a sharded-cluster snapshot.
type SnapshotMember struct {
	ID             string `json:"id"`
	ReplicaSetName string `json:"replicaSetName"`
	CloudProvider  string `json:"cloudProvider"`
}

// Snapshot is a point-in-time copy of a cluster.
type Snapshot struct {
	ID               string
	GroupID          string
	ClusterName      string
	Kind             SnapshotKind
	Status           SnapshotStatus
	SnapshotType     string // onDemand, scheduled, fallback
	FrequencyType    string // ondemand, hourly, daily, ...
	Description      string
	ReplicaSetName   string // replica-set snapshots
	Members          []SnapshotMember
	MongodVersion    string
	StorageSizeBytes int64
	CreatedAt        time.Time
	ExpiresAt        time.Time
	// Consistency records the guarantee the snapshot obtained
	// (pointInTime, oplog, none); snapex-specific.
	Consistency string
	// FailureReason explains a failed snapshot; snapex-specific.
	FailureReason string
	// PolicyItems are the ids of the backup policy items a scheduled
	// snapshot serves.
	PolicyItems []string
	// Progress is how far a capture got; snapex-specific.
	Progress JobProgress
	// Attempts is the runner's record, read with the snapshot; never
	// written through an update.
	Attempts Attempts
}

// ExportState is an export job's PascalCase state.
type ExportState string

// Export job states.
const (
	ExportQueued     ExportState = "Queued"
	ExportInProgress ExportState = "InProgress"
	ExportSuccessful ExportState = "Successful"
	ExportFailed     ExportState = "Failed"
	ExportCancelled  ExportState = "Cancelled"
)

// Terminal reports whether no further transition is possible.
func (s ExportState) Terminal() bool {
	return s == ExportSuccessful || s == ExportFailed || s == ExportCancelled
}

// Active reports whether the job still holds its snapshot and bucket.
func (s ExportState) Active() bool { return s == ExportQueued || s == ExportInProgress }

// CanMoveTo reports whether a job in state s may move to next.
func (s ExportState) CanMoveTo(next ExportState) bool {
	switch s {
	case ExportQueued:
		return next == ExportInProgress || next == ExportFailed || next == ExportCancelled
	case ExportInProgress:
		return next == ExportSuccessful || next == ExportFailed || next == ExportCancelled
	}
	return false
}

// ExportComponent is the part of a sharded-cluster export for one replica set.
type ExportComponent struct {
	ExportID       string `json:"exportId"`
	ReplicaSetName string `json:"replicaSetName"`
}

// StateReason tells why a job failed.
type StateReason struct {
	ErrorCode string `json:"errorCode"` // an atlas Code
	Message   string `json:"message"`
}

// ExportJob exports one snapshot into one bucket.
type ExportJob struct {
	ID                  string
	GroupID             string
	ClusterName         string
	SnapshotID          string
	ExportBucketID      string
	CustomData          []Label
	State               ExportState
	Prefix              string
	ExportedCollections int
	TotalCollections    int
	Components          []ExportComponent
	StateReason         *StateReason
	CreatedAt           time.Time
	FinishedAt          *time.Time
	// Options are snapex's extensions (snapexOptions); nil for a plain
	// Atlas export.
	Options *ExportOptions
	// Progress is snapex's own progress record (read-mostly: only the
	// export engine writes it).
	Progress JobProgress
	// Attempts is the runner's record, read with the job; never written
	// through an update.
	Attempts Attempts
	// CancelReason says who asked the job to stop, set when a cancel is
	// requested; it becomes the Cancelled job's stateReason.
	CancelReason *StateReason
}

// ID is a stable 24-hex id derived from the project and cluster name;
// configured clusters have no stored id of their own.
func (c Cluster) ID() string {
	sum := sha256.Sum256([]byte(c.GroupID + "/" + c.Name))
	return hex.EncodeToString(sum[:12])
}
