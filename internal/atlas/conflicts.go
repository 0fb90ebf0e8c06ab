package atlas

import "strings"

// Conflict is a domain condition a read or write runs into: a resource
// that does not exist, or a rule the change would break. The store detects
// them (a rule inside the transaction making the change) and returns them,
// wrapped; the service answers each with its Atlas error. They are
// constants, so errors.Is matches them however they were wrapped.
type Conflict string

// Error implements error.
func (c Conflict) Error() string { return string(c) }

// Conditions the store reports and the service translates.
const (
	// NotFound: no resource matched.
	NotFound Conflict = "not found"
	// ActiveExportExists: a snapshot has at most one queued or running export.
	ActiveExportExists Conflict = "the snapshot already has an active export"
	// BucketInUse: a bucket an active export writes into cannot be deleted.
	BucketInUse Conflict = "the export bucket is used by an active export"
	// PrefixTaken: two jobs never write under the same prefix of a bucket.
	PrefixTaken Conflict = "the export prefix is already used in this bucket"
	// UnfinishedSnapshot: a cluster has at most one on-demand snapshot
	// queued or in progress.
	UnfinishedSnapshot Conflict = "an on-demand snapshot of the cluster is unfinished"
	// SlotTaken: a schedule's slot produces one snapshot; another process
	// took it (or the schedule moved on meanwhile).
	SlotTaken Conflict = "the scheduled slot is already taken"
	// AutoExportTaken: a scheduled snapshot gets at most one automatic
	// export; another process created it.
	AutoExportTaken Conflict = "the automatic export of the snapshot is already created"
)

// BucketScheduled is the conflict of deleting a bucket that backup
// schedules' automatic export still writes into; Clusters names their
// clusters. errors.Is matches it with BucketInUse.
type BucketScheduled struct{ Clusters []string }

// Error implements error.
func (e *BucketScheduled) Error() string {
	return "the export bucket is used by the auto export policy of " + strings.Join(e.Clusters, ", ")
}

// Is makes a BucketScheduled a BucketInUse for callers that need not
// name the clusters.
func (e *BucketScheduled) Is(target error) bool { return target == BucketInUse }
