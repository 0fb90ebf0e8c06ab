// Package manifest writes and verifies the manifest of an export: a JSON
// object under the export's prefix listing every data file and
// metadata.json with its size, document count and SHA-256, and the
// snapshot's identity and consistency point. .complete, written after it,
// records the manifest's own SHA-256, so a manifest edited by hand is
// caught too.
package manifest

import (
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/snapshot"
)

// Name is the manifest's key relative to the export prefix.
const Name = "manifest.json"

// Version is the manifest format version.
const Version = 1

// Manifest describes one export.
type Manifest struct {
	Version     int                  `json:"version"`
	ExportJobID string               `json:"exportJobId"`
	Snapshot    Snapshot             `json:"snapshot"`
	Options     *atlas.ExportOptions `json:"options,omitempty"`
	// Collections are the exported namespaces with the snapshot's document
	// counts (over every replica set).
	Collections []Collection `json:"collections"`
	// Files are every data file and metadata.json, keys relative to the
	// prefix, in key order.
	Files []File `json:"files"`
}

// Snapshot is the identity and consistency point of the exported snapshot.
type Snapshot struct {
	ID          string               `json:"id"`
	GroupID     string               `json:"groupId"`
	ClusterName string               `json:"clusterName"`
	CreatedAt   time.Time            `json:"createdAt"`
	Consistency snapshot.Consistency `json:"consistency"`
}

// Collection is one exported namespace.
type Collection struct {
	DB         string `json:"db"`
	Collection string `json:"collection"`
	Documents  int64  `json:"documents"`
}

// File kinds.
const (
	KindData     = "data"
	KindMetadata = "metadata"
)

// File is one object of the export.
type File struct {
	Key        string `json:"key"`
	Kind       string `json:"kind"`
	DB         string `json:"db"`
	Collection string `json:"collection"`
	Size       int64  `json:"size"`
	// Documents is the data file's document count (0 for metadata.json).
	Documents int64  `json:"documents"`
	SHA256    string `json:"sha256"`
}

// Reference is what .complete records of the manifest.
type Reference struct {
	Key    string `json:"key"`
	SHA256 string `json:"sha256"`
}
