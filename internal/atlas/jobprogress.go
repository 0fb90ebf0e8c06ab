package atlas

import "time"

// JobProgress is how far a running job got, beyond what Atlas's own
// fields say; the API shows it as the snapexProgress extension. Counters
// only grow while a job runs: they count what was written and recorded,
// so a retried attempt resumes from them rather than starting over.
type JobProgress struct {
	// Documents and Bytes are what was exported (BSON bytes) or captured
	// so far; the totals are known for exports once the job has started
	// (from the snapshot) and stay zero for captures, whose size is only
	// known at the end.
	Documents      int64 `json:"documents"`
	DocumentsTotal int64 `json:"documentsTotal,omitempty"`
	Bytes          int64 `json:"bytes"`
	BytesTotal     int64 `json:"bytesTotal,omitempty"`
	// Collections and CollectionsTotal count a capture's collections;
	// an export counts them in exportStatus, Atlas's own field.
	Collections      int `json:"collections,omitempty"`
	CollectionsTotal int `json:"collectionsTotal,omitempty"`
	// UpdatedAt is when the counters were last published.
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	// ReplicaSets breaks an export of a sharded cluster down by replica
	// set (its components); empty for a replica-set cluster.
	ReplicaSets []ReplicaSetProgress `json:"replicaSets,omitempty"`
}

// ReplicaSetProgress is the part of an export's progress one replica set
// (an export component) accounts for.
type ReplicaSetProgress struct {
	ReplicaSet     string `json:"replicaSet"`
	Documents      int64  `json:"documents"`
	DocumentsTotal int64  `json:"documentsTotal"`
	Bytes          int64  `json:"bytes"`
	BytesTotal     int64  `json:"bytesTotal"`
}

// IsZero reports whether nothing was recorded.
func (p JobProgress) IsZero() bool {
	return p.Documents == 0 && p.DocumentsTotal == 0 && p.Bytes == 0 && p.BytesTotal == 0 &&
		p.Collections == 0 && p.CollectionsTotal == 0 && p.UpdatedAt.IsZero() && len(p.ReplicaSets) == 0
}

// Attempts is a job's attempt record as the job runner keeps it.
type Attempts struct {
	// Count is how many attempts were started (the current attempt's
	// number while one runs).
	Count int
	// LastError is the last failed attempt's error, empty when none failed.
	LastError string
	// RetryAt is when the next attempt is due, zero when none waits.
	RetryAt time.Time
}
