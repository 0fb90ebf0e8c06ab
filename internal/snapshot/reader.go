package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrCorrupt is wrapped by every error caused by malformed stored data
// (bad gzip stream, truncated or oversized document, count mismatch).
var ErrCorrupt = errors.New("corrupt data")

// ErrIncomplete is returned by Open when objects exist under the snapshot
// id but its manifest does not (the snapshot was never finished).
var ErrIncomplete = errors.New("snapshot is incomplete (no manifest)")

// FileError locates a read failure: the file (storage key or path), the
// uncompressed byte offset of the document being read and its index.
type FileError struct {
	File     string
	Offset   int64
	Document int64
	Err      error
}

// Error implements error.
func (e *FileError) Error() string {
	return fmt.Sprintf("%s: document %d at offset %d: %v", e.File, e.Document, e.Offset, e.Err)
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// maxManifestSize and maxMetadataSize bound what is read into memory.
const (
	maxManifestSize = 512 << 20
	maxMetadataSize = 64 << 20
)

// Snapshot is an opened, complete snapshot.
type Snapshot struct {
	// Manifest is the validated manifest. Iterate Manifest.ReplicaSets and
	// their Collections to enumerate the snapshot's content.
	Manifest *Manifest
	st       Storage
	colls    map[collRef]*Collection // every collection, for lookups in O(1)
}

// collRef names a collection of a replica set.
type collRef struct{ rs, db, name string }

// Open reads and validates the manifest of snapshot id. A snapshot without
// a manifest gives ErrIncomplete if any of its objects exist, otherwise an
// error matching fs.ErrNotExist.
func Open(ctx context.Context, st Storage, id string) (*Snapshot, error) {
	if err := ValidateSnapshotID(id); err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	key := id + "/" + ManifestFile
	r, err := st.Open(ctx, key)
	if errors.Is(err, fs.ErrNotExist) {
		objs, lerr := st.List(ctx, id+"/")
		if lerr == nil && len(objs) > 0 {
			return nil, fmt.Errorf("open snapshot %s: %w", id, ErrIncomplete)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxManifestSize+1))
	if err != nil {
		return nil, fmt.Errorf("open snapshot %s: read %s: %w", id, key, err)
	}
	if len(data) > maxManifestSize {
		return nil, fmt.Errorf("open snapshot %s: %s is larger than %d bytes: %w", id, key, maxManifestSize, ErrCorrupt)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("open snapshot %s: decode %s: %w: %w", id, key, ErrCorrupt, err)
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("open snapshot %s: %s: %w: %w", id, key, ErrCorrupt, err)
	}
	if m.ID != id {
		return nil, fmt.Errorf("open snapshot %s: %s names snapshot %q: %w", id, key, m.ID, ErrCorrupt)
	}
	snap := &Snapshot{Manifest: &m, st: st, colls: map[collRef]*Collection{}}
	for ri := range m.ReplicaSets {
		rs := &m.ReplicaSets[ri]
		for ci := range rs.Collections {
			c := &rs.Collections[ci]
			ref := collRef{rs.Name, c.DB, c.Name}
			if snap.colls[ref] != nil {
				return nil, fmt.Errorf("open snapshot %s: %s lists %s.%s of replica set %q twice: %w", id, key, c.DB, c.Name, rs.Name, ErrCorrupt)
			}
			snap.colls[ref] = c
		}
	}
	return snap, nil
}

// Key returns the storage key of a file named relative to the snapshot root
// (a Collection's DataFile or MetadataFile).
func (s *Snapshot) Key(rel string) string { return s.Manifest.ID + "/" + rel }

func (s *Snapshot) lookup(rs, db, name string) (*Collection, error) {
	if c := s.colls[collRef{rs, db, name}]; c != nil {
		return c, nil
	}
	if _, ok := s.Manifest.ReplicaSet(rs); !ok {
		return nil, fmt.Errorf("snapshot %s: no replica set %q: %w", s.Manifest.ID, rs, fs.ErrNotExist)
	}
	return nil, fmt.Errorf("snapshot %s: replica set %q has no collection %s.%s: %w", s.Manifest.ID, rs, db, name, fs.ErrNotExist)
}

// OpenCollection returns a streaming reader of the raw BSON documents of
// db.name in replica set rs. At the end of the stream the number of
// documents and bytes read is checked against the manifest. Views have no
// documents; opening one is an error.
func (s *Snapshot) OpenCollection(ctx context.Context, rs, db, name string) (*DocumentReader, error) {
	c, err := s.lookup(rs, db, name)
	if err != nil {
		return nil, err
	}
	if c.DataFile == "" {
		return nil, fmt.Errorf("snapshot %s: %s.%s is a %s and has no documents", s.Manifest.ID, db, name, c.Type)
	}
	key := s.Key(c.DataFile)
	obj, err := s.st.Open(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.Manifest.ID, err)
	}
	dr, err := newStreamDocumentReader(obj, obj, strings.HasSuffix(key, ".gz"), key)
	if err != nil {
		_ = obj.Close()
		return nil, err
	}
	dr.ctx = ctx
	dr.wantCount, dr.wantBytes = c.DocumentCount, c.BSONBytes
	return dr, nil
}

// ReadMetadata reads the mongodump metadata file of db.name in replica set
// rs: indexes, options, uuid and type, as an exporter needs them for Atlas's
// metadata.json.
func (s *Snapshot) ReadMetadata(ctx context.Context, rs, db, name string) (*Metadata, error) {
	c, err := s.lookup(rs, db, name)
	if err != nil {
		return nil, err
	}
	key := s.Key(c.MetadataFile)
	md, err := readMetadataObject(ctx, s.st, key)
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", s.Manifest.ID, err)
	}
	if md.CollectionName != name {
		return nil, fmt.Errorf("snapshot %s: %s: collectionName %q, manifest says %q: %w", s.Manifest.ID, key, md.CollectionName, name, ErrCorrupt)
	}
	return md, nil
}

func readMetadataObject(ctx context.Context, st Storage, key string) (*Metadata, error) {
	obj, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer obj.Close()
	data, err := readMaybeGzip(obj, key, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	md, err := ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", key, ErrCorrupt, err)
	}
	return md, nil
}

// readMaybeGzip reads all of r, decompressing it if it starts with the gzip
// magic bytes, and refuses more than limit bytes of output.
func readMaybeGzip(r io.Reader, name string, limit int64) ([]byte, error) {
	br := getBufReader(r)
	defer putBufReader(br)
	var src io.Reader = br
	if isGzip(br) {
		gz, err := getGzipReader(br)
		if err != nil {
			return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
		}
		defer putGzipReader(gz)
		src = gz
	}
	data, err := io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrCorrupt, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes: %w", name, limit, ErrCorrupt)
	}
	return data, nil
}

// isGzip reports whether br starts like a gzip stream: magic bytes 1f 8b
// and compression method 8 (deflate), the only one gzip defines.
func isGzip(br *bufio.Reader) bool {
	b, err := br.Peek(3)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8
}

// DocumentReader reads a stream of concatenated BSON documents (the content
// of a mongodump .bson file) one document at a time. Memory is bounded by
// the largest document: one buffer is reused for every document.
type DocumentReader struct {
	name    string
	src     *sourceReader
	r       *bufio.Reader // documents are parsed from here
	zr      *bufio.Reader // compressed bytes, when gzipped
	gz      *gzip.Reader
	closer  io.Closer
	ctx     context.Context
	buf     []byte
	head    [4]byte
	off     int64
	n       int64
	lastErr error

	wantCount, wantBytes int64 // -1: unknown
}

// NewDocumentReader reads documents from r, an uncompressed BSON stream.
// name identifies the stream in errors.
func NewDocumentReader(r io.Reader, name string) *DocumentReader {
	d, _ := newStreamDocumentReader(r, nil, false, name) // cannot fail without gzip
	return d
}

// newStreamDocumentReader reads documents from r, decompressing it when
// gzipped is set; closer (may be nil) is closed by Close. Errors of r are
// reported as they are, errors of the decompressor as corruption.
func newStreamDocumentReader(r io.Reader, closer io.Closer, gzipped bool, name string) (*DocumentReader, error) {
	src := &sourceReader{r: r}
	d := &DocumentReader{name: name, src: src, closer: closer, wantCount: -1, wantBytes: -1}
	if !gzipped {
		d.r = getBufReader(src)
		return d, nil
	}
	d.zr = getBufReader(src)
	gz, err := getGzipReader(d.zr)
	if err != nil {
		putBufReader(d.zr)
		if src.err != nil {
			return nil, &FileError{File: name, Err: err}
		}
		return nil, &FileError{File: name, Err: fmt.Errorf("%w: gzip header: %w", ErrCorrupt, err)}
	}
	d.gz = gz
	d.r = getBufReader(gz)
	return d, nil
}

// Readers and decompressors are pooled: an export of thousands of small
// collections opens one reader per collection, and a fresh 64 KiB buffer
// and decompressor each time cost more than reading the documents.
var (
	bufReaders  sync.Pool // *bufio.Reader of readBufferSize
	gzipReaders sync.Pool // *gzip.Reader
)

// readBufferSize is the buffer between a snapshot object and the parser.
const readBufferSize = 64 << 10

func getBufReader(r io.Reader) *bufio.Reader {
	if br, ok := bufReaders.Get().(*bufio.Reader); ok {
		br.Reset(r)
		return br
	}
	return bufio.NewReaderSize(r, readBufferSize)
}

func putBufReader(br *bufio.Reader) {
	if br != nil {
		br.Reset(nil)
		bufReaders.Put(br)
	}
}

func getGzipReader(r io.Reader) (*gzip.Reader, error) {
	if gz, ok := gzipReaders.Get().(*gzip.Reader); ok {
		if err := gz.Reset(r); err != nil {
			gzipReaders.Put(gz)
			return nil, err
		}
		return gz, nil
	}
	return gzip.NewReader(r)
}

func putGzipReader(gz *gzip.Reader) {
	if gz != nil {
		gzipReaders.Put(gz)
	}
}

// sourceReader remembers errors of the underlying reader, so I/O failures
// can be told apart from corrupt compressed data.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// Next returns the next document, or io.EOF after the last one. The
// returned slice is only valid until the following call to Next.
// Malformed data gives a *FileError wrapping ErrCorrupt that names the
// file, the document index and its uncompressed offset.
func (d *DocumentReader) Next() (bson.Raw, error) {
	if d.lastErr != nil {
		return nil, d.lastErr
	}
	if d.ctx != nil && d.n&1023 == 0 {
		if err := d.ctx.Err(); err != nil {
			return nil, d.fail(err)
		}
	}
	head := d.head[:]
	k, err := readFull(d.r, head)
	if err != nil {
		if k == 0 && err == io.EOF {
			return nil, d.atEOF()
		}
		if err == io.EOF {
			return nil, d.fail(fmt.Errorf("%w: truncated length prefix (%d of 4 bytes)", ErrCorrupt, k))
		}
		return nil, d.fail(d.classify(err, "in a length prefix"))
	}
	size := int64(binary.LittleEndian.Uint32(head))
	if size < 5 || size > MaxDocumentSize {
		return nil, d.fail(fmt.Errorf("%w: invalid document length %d (allowed 5..%d)", ErrCorrupt, size, MaxDocumentSize))
	}
	if int64(cap(d.buf)) < size {
		d.buf = make([]byte, size, growTo(size))
	}
	doc := d.buf[:size]
	copy(doc, head)
	k, err = readFull(d.r, doc[4:])
	if err != nil {
		if err == io.EOF {
			return nil, d.fail(fmt.Errorf("%w: truncated document: length prefix says %d bytes, only %d present", ErrCorrupt, size, 4+k))
		}
		return nil, d.fail(d.classify(err, fmt.Sprintf("inside a document of %d bytes (%d read)", size, 4+k)))
	}
	if doc[size-1] != 0 {
		return nil, d.fail(fmt.Errorf("%w: document of %d bytes does not end with a NUL byte", ErrCorrupt, size))
	}
	d.off += size
	d.n++
	return doc, nil
}

// growTo rounds a buffer size up so that slowly growing documents do not
// reallocate each time.
func growTo(size int64) int64 {
	c := int64(16 << 10)
	for c < size {
		c *= 2
	}
	if c > MaxDocumentSize {
		c = MaxDocumentSize
	}
	return c
}

// readFull is io.ReadFull without the translation of a mid-buffer io.EOF
// into io.ErrUnexpectedEOF, so the reader's own error stays visible: io.EOF
// means the (decompressed) stream ended cleanly, io.ErrUnexpectedEOF from a
// decompressor means the compressed file itself is cut short.
func readFull(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		k, err := r.Read(buf[n:])
		n += k
		if err != nil {
			if n == len(buf) && err == io.EOF {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}

// classify wraps an error from the (decompressing) stream: failures of the
// underlying storage are passed through, everything else is corruption.
func (d *DocumentReader) classify(err error, where string) error {
	if d.src.err != nil {
		return fmt.Errorf("read %s: %w", where, err)
	}
	if err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: compressed stream ends early (truncated file?) %s", ErrCorrupt, where)
	}
	return fmt.Errorf("%w: %s: %w", ErrCorrupt, where, err)
}

func (d *DocumentReader) atEOF() error {
	if d.wantCount >= 0 && d.n != d.wantCount {
		return d.fail(fmt.Errorf("%w: found %d documents, manifest says %d", ErrCorrupt, d.n, d.wantCount))
	}
	if d.wantBytes >= 0 && d.off != d.wantBytes {
		return d.fail(fmt.Errorf("%w: found %d BSON bytes, manifest says %d", ErrCorrupt, d.off, d.wantBytes))
	}
	d.lastErr = io.EOF
	return io.EOF
}

func (d *DocumentReader) fail(err error) error {
	d.lastErr = &FileError{File: d.name, Offset: d.off, Document: d.n, Err: err}
	return d.lastErr
}

// Offset returns the number of uncompressed bytes consumed so far (the
// offset of the next document).
func (d *DocumentReader) Offset() int64 { return d.off }

// Count returns the number of documents returned so far.
func (d *DocumentReader) Count() int64 { return d.n }

// Close releases the reader and closes the underlying object, if the
// reader owns one.
func (d *DocumentReader) Close() error {
	if d.r == nil {
		return nil // closed before
	}
	var err error
	if d.gz != nil {
		_ = d.gz.Close() // only repeats decode errors Next already reported
	}
	if d.closer != nil {
		err = d.closer.Close()
	}
	putBufReader(d.r)
	putBufReader(d.zr)
	putGzipReader(d.gz)
	d.r, d.zr, d.gz = nil, nil, nil
	d.lastErr = fmt.Errorf("%s: reader closed", d.name)
	if err != nil {
		return fmt.Errorf("%s: close: %w", d.name, err)
	}
	return nil
}
