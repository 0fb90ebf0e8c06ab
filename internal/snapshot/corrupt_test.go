package snapshot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readUntilError reads documents until an error other than a document.
func readUntilError(dr *DocumentReader) (int, error) {
	n := 0
	for {
		_, err := dr.Next()
		if err != nil {
			if err == io.EOF {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

func wantFileError(t *testing.T, err error, file string, offset int64, msg string) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FileError", err, err)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Errorf("error %v does not wrap ErrCorrupt", err)
	}
	if !strings.Contains(fe.File, file) {
		t.Errorf("error names file %q, want %q", fe.File, file)
	}
	if offset >= 0 && fe.Offset != offset {
		t.Errorf("error offset %d, want %d (%v)", fe.Offset, offset, err)
	}
	if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), file) {
		t.Errorf("error %q should mention %q and the file", err, msg)
	}
}

func TestDocumentReaderCorruptPlainStreams(t *testing.T) {
	good := concatDocs(t, "c", 10)
	first := int64(binary.LittleEndian.Uint32(good))
	cases := []struct {
		name   string
		data   []byte
		offset int64
		msg    string
	}{
		{"truncated prefix", append(append([]byte{}, good...), 1, 2), int64(len(good)), "truncated length prefix"},
		{"truncated document", good[:len(good)-3], -1, "truncated document"},
		{"huge length", append(append([]byte{}, good[:first]...), 0xff, 0xff, 0xff, 0x7f, 0), first, "invalid document length"},
		{"tiny length", append(append([]byte{}, good[:first]...), 2, 0, 0, 0, 0), first, "invalid document length"},
		{"missing terminator", append(append([]byte{}, good[:first]...), 5, 0, 0, 0, 9), first, "does not end with a NUL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dr := NewDocumentReader(bytes.NewReader(c.data), "test.bson")
			_, err := readUntilError(dr)
			wantFileError(t, err, "test.bson", c.offset, c.msg)
			if _, err2 := dr.Next(); err2 != err {
				t.Errorf("Next after error = %v, want the same error", err2)
			}
		})
	}
	dr := NewDocumentReader(bytes.NewReader(good), "ok.bson")
	if n, err := readUntilError(dr); n != 10 || err != nil || dr.Offset() != int64(len(good)) {
		t.Fatalf("good stream: %d docs, %v, offset %d", n, err, dr.Offset())
	}
}

func TestCorruptSnapshotFiles(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (Storage, string, string) {
		st, dir := newDirStorage(t)
		writeSnapshot(t, st, "s1", map[string]int{"c": 2000})
		return st, dir, filepath.Join(dir, "s1", "rs0", "app", "c.bson.gz")
	}
	open := func(t *testing.T, st Storage) *DocumentReader {
		s, err := Open(ctx, st, "s1")
		if err != nil {
			t.Fatal(err)
		}
		dr, err := s.OpenCollection(ctx, "rs0", "app", "c")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dr.Close() })
		return dr
	}

	t.Run("truncated gzip", func(t *testing.T) {
		st, _, file := setup(t)
		data, _ := os.ReadFile(file)
		writeFile(t, file, data[:len(data)/2])
		n, err := readUntilError(open(t, st))
		if n >= 2000 {
			t.Fatalf("read %d documents from half a file", n)
		}
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", -1, "compressed stream ends early")
	})
	t.Run("flipped bytes", func(t *testing.T) {
		st, _, file := setup(t)
		data, _ := os.ReadFile(file)
		for i := len(data) / 3; i < len(data)/3+16; i++ {
			data[i] ^= 0x5a
		}
		writeFile(t, file, data)
		_, err := readUntilError(open(t, st))
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", -1, "corrupt")
	})
	t.Run("bad checksum", func(t *testing.T) {
		st, _, file := setup(t)
		data, _ := os.ReadFile(file)
		data[len(data)-6] ^= 0xff // CRC-32 in the trailer
		writeFile(t, file, data)
		n, err := readUntilError(open(t, st))
		if n != 2000 {
			t.Fatalf("read %d documents before the trailer", n)
		}
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", -1, "checksum")
	})
	t.Run("not gzip", func(t *testing.T) {
		st, _, file := setup(t)
		writeFile(t, file, []byte("this is not gzip at all"))
		s, err := Open(ctx, st, "s1")
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.OpenCollection(ctx, "rs0", "app", "c")
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", 0, "gzip header")
	})
	t.Run("truncated document inside valid gzip", func(t *testing.T) {
		st, _, file := setup(t)
		raw := concatDocs(t, "c", 2000)
		cut := len(raw) - 10
		// offset of the last document = total minus its length
		last := makeDoc(t, "c", 1999)
		writeFile(t, file, gzipBytes(t, raw[:cut]))
		n, err := readUntilError(open(t, st))
		if n != 1999 {
			t.Fatalf("read %d documents, want 1999", n)
		}
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", int64(len(raw)-len(last)), "truncated document")
	})
	t.Run("fewer documents than the manifest", func(t *testing.T) {
		st, _, file := setup(t)
		writeFile(t, file, gzipBytes(t, concatDocs(t, "c", 1500)))
		n, err := readUntilError(open(t, st))
		if n != 1500 {
			t.Fatalf("read %d", n)
		}
		wantFileError(t, err, "s1/rs0/app/c.bson.gz", -1, "found 1500 documents, manifest says 2000")
	})
	t.Run("missing data file", func(t *testing.T) {
		st, _, file := setup(t)
		os.Remove(file)
		s, err := Open(ctx, st, "s1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.OpenCollection(ctx, "rs0", "app", "c"); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "c.bson.gz") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestTamperedManifest(t *testing.T) {
	ctx := context.Background()
	for name, edit := range map[string]func(string) string{
		"escaping data file": func(s string) string {
			return strings.Replace(s, `"dataFile": "rs0/app/c.bson.gz"`, `"dataFile": "rs0/app/../../../../etc/passwd"`, 1)
		},
		"data file in other directory": func(s string) string {
			return strings.Replace(s, `"dataFile": "rs0/app/c.bson.gz"`, `"dataFile": "rs0/other/c.bson.gz"`, 1)
		},
		"wrong rs dir":     func(s string) string { return strings.Replace(s, `"dir": "rs0"`, `"dir": ".."`, 1) },
		"bad db":           func(s string) string { return strings.Replace(s, `"db": "app"`, `"db": "../x"`, 1) },
		"future version":   func(s string) string { return strings.Replace(s, `"formatVersion": 1`, `"formatVersion": 99`, 1) },
		"other id":         func(s string) string { return strings.Replace(s, `"id": "s1"`, `"id": "s2"`, 1) },
		"not json":         func(s string) string { return s[:len(s)/2] },
		"unknown cluster":  func(s string) string { return strings.Replace(s, `"type": "replicaSet"`, `"type": "standalone"`, 1) },
		"collection twice": func(s string) string { return strings.Replace(s, `"name": "d"`, `"name": "c"`, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			st, dir := newDirStorage(t)
			writeSnapshot(t, st, "s1", map[string]int{"c": 3, "d": 2})
			path := filepath.Join(dir, "s1", "manifest.json")
			data, _ := os.ReadFile(path)
			edited := edit(string(data))
			if edited == string(data) {
				t.Fatalf("edit did not apply to %s", data)
			}
			writeFile(t, path, []byte(edited))
			if _, err := Open(ctx, st, "s1"); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
		})
	}
}
