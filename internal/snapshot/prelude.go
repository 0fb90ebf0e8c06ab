package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"path"
)

// maxPreludeBytes bounds the prelude read; mongodump writes a few hundred
// bytes.
const maxPreludeBytes = 64 << 10

// preludeVersion returns the server version mongodump recorded in the
// dump's prelude.json (or prelude.json.gz) at rel — its ServerVersion
// field — or "" when there is no readable prelude. A missing or unreadable
// prelude is not an error: the dump's data does not depend on it.
func (in *importer) preludeVersion(rel string) string {
	for _, name := range []string{"prelude.json", "prelude.json.gz"} {
		f, err := in.root.Open(path.Join(rel, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return ""
		}
		v := readPreludeVersion(f)
		f.Close()
		if v != "" {
			return v
		}
	}
	return ""
}

func readPreludeVersion(f io.Reader) string {
	br := bufio.NewReader(io.LimitReader(f, maxPreludeBytes))
	var r io.Reader = br
	// Decompress by content, as Import does for every dump file.
	if magic, err := br.Peek(2); err == nil && bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return ""
		}
		defer gz.Close()
		r = io.LimitReader(gz, maxPreludeBytes)
	}
	var p struct {
		ServerVersion string `json:"ServerVersion"`
	}
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return ""
	}
	return p.ServerVersion
}

// mongodVersion is the version the dump recorded — its top-level prelude,
// else the first replica set directory's — or fallback.
func (in *importer) mongodVersion(rsets []plannedRS, fallback string) string {
	if v := in.preludeVersion("."); v != "" {
		return v
	}
	for _, rs := range rsets {
		if v := in.preludeVersion(rs.name); v != "" {
			return v
		}
	}
	return fallback
}
