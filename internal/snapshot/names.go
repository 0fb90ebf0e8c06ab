package snapshot

import (
	"crypto/sha1" // #nosec G505 -- used only to reproduce mongodump's file-name shortening, not for security.
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrInvalidName is returned (wrapped) when a snapshot id, replica-set name,
// database name or collection name cannot be stored safely.
var ErrInvalidName = errors.New("invalid name")

// maxEscapedCollectionName is the longest escaped collection name mongodump
// writes before shortening it; with the longest suffix (".metadata.json.gz")
// the file name stays below the 255-byte limit of common file systems.
const (
	maxEscapedCollectionName = 238
	shortenedPrefixLen       = 208
	timeseriesBucketsPrefix  = "system.buckets."
)

// EscapeCollectionName returns the file-name stem that mongodump uses for a
// collection: the name is query-escaped (so "/" becomes "%2F", NUL "%00",
// space "+", and every byte outside [A-Za-z0-9-_.~] is percent-encoded), and
// if the result is longer than 238 bytes it is cut to 208 bytes and followed
// by "%24" and the unpadded base64url SHA-1 of the original name. mongorestore
// then recovers the full name from the metadata file's collectionName field.
//
// The stem never contains "/" or NUL, and because a suffix (".bson.gz",
// ".metadata.json.gz") is always appended, a file name can never be "." or "..".
func EscapeCollectionName(name string) string {
	esc := url.QueryEscape(name)
	if len(esc) > maxEscapedCollectionName {
		sum := sha1.Sum([]byte(name)) // #nosec G401 -- naming only.
		esc = esc[:shortenedPrefixLen] + "%24" + base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return esc
}

// UnescapeCollectionName reverses EscapeCollectionName for names that were
// not shortened. ok is false when the stem was shortened (the full name must
// then be taken from the metadata file).
func UnescapeCollectionName(stem string) (name string, ok bool, err error) {
	if len(stem) == maxEscapedCollectionName && strings.Contains(stem, "%24") {
		return "", false, nil
	}
	name, err = url.QueryUnescape(stem)
	if err != nil {
		return "", false, fmt.Errorf("unescape collection file name %q: %w", stem, err)
	}
	return name, true, nil
}

// EscapeReplicaSetName returns the directory name used for a replica set:
// bytes outside [A-Za-z0-9_-] are written as %XX (upper-case hex), so the
// result never contains "/", ".", NUL or other special characters and never
// collides with "manifest.json".
func EscapeReplicaSetName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// ValidateReplicaSetName reports whether name can be used as a replica-set name.
func ValidateReplicaSetName(name string) error {
	if name == "" {
		return fmt.Errorf("replica set name is empty: %w", ErrInvalidName)
	}
	if len(name) > 255 {
		return fmt.Errorf("replica set name %.40q… is longer than 255 bytes: %w", name, ErrInvalidName)
	}
	return nil
}

// ValidateDBName reports whether name is a database name MongoDB accepts on
// Unix-like systems: non-empty, shorter than 64 bytes, and free of
// '/', '\\', '.', ' ', '"', '$' and NUL. Database directories are written
// unescaped, exactly as mongodump writes them, so only such names are stored;
// this also rules out ".", ".." and any path separator.
func ValidateDBName(name string) error {
	if name == "" {
		return fmt.Errorf("database name is empty: %w", ErrInvalidName)
	}
	if len(name) >= 64 {
		return fmt.Errorf("database name %q is 64 bytes or longer: %w", name, ErrInvalidName)
	}
	if i := strings.IndexAny(name, "/\\. \"$\x00"); i >= 0 {
		return fmt.Errorf("database name %q contains %q: %w", name, name[i], ErrInvalidName)
	}
	return nil
}

// ValidateCollectionName reports whether name can be stored: it must be
// non-empty and free of NUL. Every other byte is escaped by EscapeCollectionName.
func ValidateCollectionName(name string) error {
	if name == "" {
		return fmt.Errorf("collection name is empty: %w", ErrInvalidName)
	}
	if strings.IndexByte(name, 0) >= 0 {
		return fmt.Errorf("collection name %q contains NUL: %w", name, ErrInvalidName)
	}
	return nil
}

// ValidateSnapshotID reports whether id can name a snapshot tree: 1 to 128
// bytes of [A-Za-z0-9._-], and neither "." nor "..".
func ValidateSnapshotID(id string) error {
	if id == "" || len(id) > 128 || id == "." || id == ".." {
		return fmt.Errorf("snapshot id %q: %w", id, ErrInvalidName)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.') {
			return fmt.Errorf("snapshot id %q contains %q: %w", id, c, ErrInvalidName)
		}
	}
	return nil
}

// dataFileStem returns the stem of a collection's BSON file: timeseries
// collections keep their bucket documents in "system.buckets.<name>", as
// mongodump writes them, so mongorestore recreates the timeseries collection.
func dataFileStem(name string, typ CollectionType) string {
	if typ == TypeTimeseries {
		return EscapeCollectionName(timeseriesBucketsPrefix + name)
	}
	return EscapeCollectionName(name)
}
