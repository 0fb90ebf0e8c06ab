package manifest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/snapex/snapex/internal/blob"
)

// Digest is an object's size and SHA-256 (hex).
type Digest struct {
	Size   int64
	SHA256 string
}

// Recorder is a blob.Bucket that digests every object written through it
// as the bytes go by, so the manifest costs no second read of what this
// run uploaded.
type Recorder struct {
	blob.Bucket
	mu      sync.Mutex
	digests map[string]Digest
	docs    map[string]int64
}

// NewRecorder wraps b.
func NewRecorder(b blob.Bucket) *Recorder {
	return &Recorder{Bucket: b, digests: map[string]Digest{}, docs: map[string]int64{}}
}

// SetDocuments records the document count of the data file at key, which
// the writer of the file knows.
func (r *Recorder) SetDocuments(key string, docs int64) {
	r.mu.Lock()
	r.docs[key] = docs
	r.mu.Unlock()
}

// Documents returns the count SetDocuments recorded for key.
func (r *Recorder) Documents(key string) (int64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.docs[key]
	return n, ok
}

// Digest returns what was recorded for key by the last successful write.
func (r *Recorder) Digest(key string) (Digest, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.digests[key]
	return d, ok
}

func (r *Recorder) set(key string, d Digest) {
	r.mu.Lock()
	r.digests[key] = d
	r.mu.Unlock()
}

// WriteAll implements blob.Bucket.
func (r *Recorder) WriteAll(ctx context.Context, key string, data []byte, opts *blob.WriterOptions) error {
	if err := r.Bucket.WriteAll(ctx, key, data, opts); err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	r.set(key, Digest{Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])})
	return nil
}

// NewWriter implements blob.Bucket.
func (r *Recorder) NewWriter(ctx context.Context, key string, opts *blob.WriterOptions) (blob.Writer, error) {
	w, err := r.Bucket.NewWriter(ctx, key, opts)
	if err != nil {
		return nil, err
	}
	return &digestWriter{Writer: w, r: r, key: key, h: sha256.New()}, nil
}

type digestWriter struct {
	blob.Writer
	r    *Recorder
	key  string
	h    hash.Hash
	size int64
}

func (w *digestWriter) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.h.Write(p[:n])
	w.size += int64(n)
	return n, err
}

func (w *digestWriter) Close() error {
	if err := w.Writer.Close(); err != nil {
		return err
	}
	w.r.set(w.key, Digest{Size: w.size, SHA256: hex.EncodeToString(w.h.Sum(nil))})
	return nil
}

// Describe reads an object back and returns its digest and, for a data
// file (.json.gz or .parquet), its document count. The engine uses it for
// files an earlier attempt of the job uploaded; the verifier for every
// file of an export without a manifest.
func Describe(ctx context.Context, b blob.Bucket, key string) (Digest, int64, error) {
	rc, err := b.NewReader(ctx, key)
	if err != nil {
		return Digest{}, 0, err
	}
	defer rc.Close()
	h := sha256.New()
	switch {
	case strings.HasSuffix(key, ".json.gz"):
		cr := &countingReader{r: io.TeeReader(rc, h)}
		docs, err := CountLines(cr)
		if err != nil {
			return Digest{}, 0, fmt.Errorf("%s: %w", key, err)
		}
		// Drain what follows the gzip stream, so the digest covers it.
		if _, err := io.Copy(io.Discard, cr); err != nil {
			return Digest{}, 0, fmt.Errorf("read %s: %w", key, err)
		}
		return Digest{Size: cr.n, SHA256: hex.EncodeToString(h.Sum(nil))}, docs, nil
	case strings.HasSuffix(key, ".parquet"):
		data, err := io.ReadAll(io.TeeReader(rc, h))
		if err != nil {
			return Digest{}, 0, fmt.Errorf("read %s: %w", key, err)
		}
		rows, err := ParquetRows(data)
		if err != nil {
			return Digest{}, 0, fmt.Errorf("%s: %w", key, err)
		}
		return Digest{Size: int64(len(data)), SHA256: hex.EncodeToString(h.Sum(nil))}, rows, nil
	}
	n, err := io.Copy(h, rc)
	if err != nil {
		return Digest{}, 0, fmt.Errorf("read %s: %w", key, err)
	}
	return Digest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, 0, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// CountLines decompresses a gzip stream (every member) to its end and
// counts its lines, checking that each is one JSON value; an Extended
// JSON export has one document per line.
func CountLines(r io.Reader) (int64, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return 0, fmt.Errorf("not gzip: %w", err)
	}
	br := bufio.NewReaderSize(zr, 1<<20)
	var n int64
	var line []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, fmt.Errorf("gzip stream broken after %d documents: %w", n, err)
		}
		if isPrefix || line != nil {
			line = append(line, chunk...)
			if isPrefix {
				continue
			}
			chunk, line = line, nil
		}
		if !validDocument(chunk) {
			return n, fmt.Errorf("line %d is not one JSON document", n+1)
		}
		n++
	}
	return n, nil
}

// ParquetRows returns the row count a Parquet file's footer records,
// after checking the footer parses.
func ParquetRows(data []byte) (int64, error) {
	pr, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("not a readable Parquet file: %w", err)
	}
	defer pr.Close()
	return pr.NumRows(), nil
}
