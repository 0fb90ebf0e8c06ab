package snapshot

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FormatVersion is the manifest format this package writes and reads.
const FormatVersion = 1

// ManifestFile is the name of the manifest object at the snapshot root.
// It is written last: a snapshot without it is incomplete.
const ManifestFile = "manifest.json"

// ClusterType is the topology the snapshot was taken from.
type ClusterType string

// Cluster types.
const (
	ClusterReplicaSet     ClusterType = "replicaSet"
	ClusterShardedCluster ClusterType = "shardedCluster"
)

// Guarantee names the consistency a snapshot obtained.
type Guarantee string

// Consistency guarantees.
const (
	// GuaranteePointInTime: every collection was read at one cluster time
	// (read concern "snapshot" with atClusterTime).
	GuaranteePointInTime Guarantee = "pointInTime"
	// GuaranteeOplog: collections were read over a window of time and the
	// oplog between OplogStart and OplogEnd makes them consistent at OplogEnd.
	GuaranteeOplog Guarantee = "oplog"
	// GuaranteeNone: collections were read one after another with no
	// common point in time (also every imported dump).
	GuaranteeNone Guarantee = "none"
)

// Timestamp is a BSON timestamp (seconds, increment).
type Timestamp struct {
	T uint32 `json:"t"`
	I uint32 `json:"i"`
}

// Consistency records the guarantee a snapshot obtained.
type Consistency struct {
	Guarantee   Guarantee  `json:"guarantee"`
	ClusterTime *Timestamp `json:"clusterTime,omitempty"` // pointInTime
	OplogStart  *Timestamp `json:"oplogStart,omitempty"`  // oplog
	OplogEnd    *Timestamp `json:"oplogEnd,omitempty"`    // oplog
}

// Manifest describes a complete snapshot. It is stored as JSON at
// "<id>/manifest.json".
type Manifest struct {
	FormatVersion int         `json:"formatVersion"`
	ID            string      `json:"id"`
	ClusterName   string      `json:"clusterName"`
	CreatedAt     time.Time   `json:"createdAt"`
	CompletedAt   time.Time   `json:"completedAt"`
	Type          ClusterType `json:"type"`
	MongodVersion string      `json:"mongodVersion,omitempty"`
	Consistency   Consistency `json:"consistency"`
	// ReplicaSets are sorted by name; each has its own tree "<id>/<dir>/".
	ReplicaSets []ReplicaSet `json:"replicaSets"`
	// Import is set for snapshots registered from a mongodump directory.
	Import *ImportInfo `json:"import,omitempty"`
}

// ReplicaSet lists the collections stored for one replica set (one shard
// or the config server of a sharded cluster).
type ReplicaSet struct {
	Name string `json:"name"`
	// Dir is the escaped directory name (EscapeReplicaSetName).
	Dir string `json:"dir"`
	// Collections are sorted by (DB, Name).
	Collections []Collection `json:"collections"`
}

// Collection is one namespace of a replica set.
type Collection struct {
	DB   string         `json:"db"`
	Name string         `json:"name"`
	Type CollectionType `json:"type"`
	UUID string         `json:"uuid,omitempty"`
	// Options are the createCollection options in canonical Extended JSON.
	Options json.RawMessage `json:"options"`
	// DocumentCount is the number of documents in the data file.
	DocumentCount int64 `json:"documentCount"`
	// BSONBytes is the uncompressed size of the data file.
	BSONBytes int64 `json:"bsonBytes"`
	// CompressedBytes is the size of the stored (gzip) data file.
	CompressedBytes int64 `json:"compressedBytes"`
	// IndexCount is the number of index specifications in the metadata.
	IndexCount int `json:"indexCount"`
	// DataFile is the data object's key relative to the snapshot root
	// ("<rs dir>/<db>/<escaped>.bson.gz"); empty for views, which have none.
	DataFile string `json:"dataFile,omitempty"`
	// MetadataFile is the metadata object's key relative to the snapshot
	// root ("<rs dir>/<db>/<escaped>.metadata.json.gz").
	MetadataFile string `json:"metadataFile"`
}

// ImportInfo records where an imported snapshot came from and what was left out.
type ImportInfo struct {
	Source  string        `json:"source"`
	Skipped []SkippedFile `json:"skipped,omitempty"`
}

// SkippedFile is an input file Import did not store, with the reason.
type SkippedFile struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// OptionsBSON returns the collection options as a BSON document.
func (c *Collection) OptionsBSON() (bson.Raw, error) {
	if len(c.Options) == 0 {
		return bson.Raw{5, 0, 0, 0, 0}, nil
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(c.Options, true, &raw); err != nil {
		return nil, fmt.Errorf("options of %s.%s: %w", c.DB, c.Name, err)
	}
	return raw, nil
}

// ReplicaSet returns the replica set with the given name.
func (m *Manifest) ReplicaSet(name string) (*ReplicaSet, bool) {
	for i := range m.ReplicaSets {
		if m.ReplicaSets[i].Name == name {
			return &m.ReplicaSets[i], true
		}
	}
	return nil, false
}

// Collection returns the collection db.name of the replica set.
func (rs *ReplicaSet) Collection(db, name string) (*Collection, bool) {
	for i := range rs.Collections {
		if rs.Collections[i].DB == db && rs.Collections[i].Name == name {
			return &rs.Collections[i], true
		}
	}
	return nil, false
}

// TotalDocuments returns the number of documents over all replica sets.
func (m *Manifest) TotalDocuments() int64 {
	var n int64
	for _, rs := range m.ReplicaSets {
		for _, c := range rs.Collections {
			n += c.DocumentCount
		}
	}
	return n
}

// TotalBSONBytes returns the uncompressed data size over all replica sets.
func (m *Manifest) TotalBSONBytes() int64 {
	var n int64
	for _, rs := range m.ReplicaSets {
		for _, c := range rs.Collections {
			n += c.BSONBytes
		}
	}
	return n
}

// Validate checks a manifest read from storage: known version, valid id,
// and every file key well formed and inside its replica set's tree, so a
// tampered manifest cannot make a reader open objects elsewhere.
func (m *Manifest) Validate() error {
	if m.FormatVersion != FormatVersion {
		return fmt.Errorf("manifest: unsupported format version %d (want %d)", m.FormatVersion, FormatVersion)
	}
	if err := ValidateSnapshotID(m.ID); err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	switch m.Type {
	case ClusterReplicaSet, ClusterShardedCluster:
	default:
		return fmt.Errorf("manifest: unknown cluster type %q", m.Type)
	}
	seen := map[string]bool{}
	for _, rs := range m.ReplicaSets {
		if err := ValidateReplicaSetName(rs.Name); err != nil {
			return fmt.Errorf("manifest: %w", err)
		}
		if rs.Dir != EscapeReplicaSetName(rs.Name) {
			return fmt.Errorf("manifest: replica set %q has directory %q, want %q", rs.Name, rs.Dir, EscapeReplicaSetName(rs.Name))
		}
		if seen[rs.Name] {
			return fmt.Errorf("manifest: replica set %q listed twice", rs.Name)
		}
		seen[rs.Name] = true
		for _, c := range rs.Collections {
			if err := ValidateDBName(c.DB); err != nil {
				return fmt.Errorf("manifest: replica set %q: %w", rs.Name, err)
			}
			if err := ValidateCollectionName(c.Name); err != nil {
				return fmt.Errorf("manifest: replica set %q: %w", rs.Name, err)
			}
			files := []string{c.MetadataFile}
			if c.Type != TypeView || c.DataFile != "" {
				files = append(files, c.DataFile)
			}
			for _, f := range files {
				if err := ValidateKey(f); err != nil {
					return fmt.Errorf("manifest: %s.%s: %w", c.DB, c.Name, err)
				}
				dir := rs.Dir + "/" + c.DB + "/"
				if len(f) <= len(dir) || f[:len(dir)] != dir || strings.Contains(f[len(dir):], "/") {
					return fmt.Errorf("manifest: %s.%s: file %q is not directly in %q", c.DB, c.Name, f, dir)
				}
			}
		}
	}
	return nil
}
