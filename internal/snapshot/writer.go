package snapshot

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
)

// MaxDocumentSize is the largest BSON document accepted when writing or
// reading: MongoDB's 16 MiB user limit plus the 16 KiB the server allows
// internally (oplog entries, for instance).
const MaxDocumentSize = 16*1024*1024 + 16*1024

// DefaultGzipLevel is the compression level used unless WithGzipLevel is
// given. Snapshots are intermediate data that is decompressed again for
// export, so speed matters more than ratio.
const DefaultGzipLevel = gzip.BestSpeed

// ErrExists is returned by NewWriter when a complete snapshot with the same
// id is already stored.
var ErrExists = errors.New("snapshot already exists")

// WriterOption configures a Writer.
type WriterOption func(*writerConfig) error

type writerConfig struct {
	gzipLevel int
}

// WithGzipLevel sets the gzip level of data and metadata files: -2 (Huffman
// only), -1 (default), 1 (fastest) to 9 (smallest), or 0: both are stored
// uncompressed, as plain "<coll>.bson" and "<coll>.metadata.json" (what
// mongodump writes without --gzip; more disk, no decompression when
// exporting).
func WithGzipLevel(level int) WriterOption {
	return func(c *writerConfig) error {
		if level < gzip.HuffmanOnly || level > gzip.BestCompression {
			return fmt.Errorf("gzip level %d out of range [%d, %d]", level, gzip.HuffmanOnly, gzip.BestCompression)
		}
		c.gzipLevel = level
		return nil
	}
}

// Writer writes one snapshot. Collections may be written concurrently, each
// through its own CollectionWriter; Finish writes the manifest once all of
// them are closed. A Writer whose Finish was never called leaves an
// incomplete snapshot, which Abort removes.
type Writer struct {
	st    Storage
	level int

	mu       sync.Mutex
	m        Manifest
	rs       map[string]*ReplicaSet
	reserved map[string]string // object key -> namespace using it
	open     map[*CollectionWriter]struct{}
	finished bool
}

// NewWriter starts a snapshot described by base: ID (required), ClusterName,
// CreatedAt (now when zero), Type (replicaSet when empty), MongodVersion and
// Consistency (guarantee "none" when empty) are taken from it;
// ReplicaSets, CompletedAt and FormatVersion are filled in by the Writer.
//
// If a manifest already exists under the id, NewWriter returns ErrExists.
// Objects of an incomplete snapshot with the same id (no manifest, e.g. left
// by a crash) are deleted first: a snapshot without manifest is garbage by
// definition. Two Writers must never use the same id at the same time.
func NewWriter(ctx context.Context, st Storage, base Manifest, opts ...WriterOption) (*Writer, error) {
	cfg := writerConfig{gzipLevel: DefaultGzipLevel}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("snapshot writer: %w", err)
		}
	}
	if err := ValidateSnapshotID(base.ID); err != nil {
		return nil, fmt.Errorf("snapshot writer: %w", err)
	}
	if base.Type == "" {
		base.Type = ClusterReplicaSet
	}
	if base.Type != ClusterReplicaSet && base.Type != ClusterShardedCluster {
		return nil, fmt.Errorf("snapshot writer: unknown cluster type %q", base.Type)
	}
	if base.CreatedAt.IsZero() {
		base.CreatedAt = time.Now().UTC()
	}
	if base.Consistency.Guarantee == "" {
		base.Consistency.Guarantee = GuaranteeNone
	}
	base.FormatVersion = FormatVersion
	base.ReplicaSets = nil
	base.CompletedAt = time.Time{}

	r, err := st.Open(ctx, base.ID+"/"+ManifestFile)
	switch {
	case err == nil:
		_ = r.Close()
		return nil, fmt.Errorf("snapshot writer: %s: %w", base.ID, ErrExists)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("snapshot writer: check for existing manifest: %w", err)
	}
	if err := st.Delete(ctx, base.ID); err != nil {
		return nil, fmt.Errorf("snapshot writer: remove incomplete snapshot %s: %w", base.ID, err)
	}
	return &Writer{
		st:       st,
		level:    cfg.gzipLevel,
		m:        base,
		rs:       map[string]*ReplicaSet{},
		reserved: map[string]string{},
		open:     map[*CollectionWriter]struct{}{},
	}, nil
}

// SetConsistency records the consistency guarantee obtained (it is often
// known only at the end, e.g. the oplog end). It must be called before Finish.
func (w *Writer) SetConsistency(c Consistency) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.m.Consistency = c
}

// AddReplicaSet records a replica set even if it gets no collections.
func (w *Writer) AddReplicaSet(name string) error {
	if err := ValidateReplicaSetName(name); err != nil {
		return fmt.Errorf("snapshot writer: %w", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.replicaSetLocked(name)
	return nil
}

func (w *Writer) replicaSetLocked(name string) *ReplicaSet {
	rs, ok := w.rs[name]
	if !ok {
		rs = &ReplicaSet{Name: name, Dir: EscapeReplicaSetName(name), Collections: []Collection{}}
		w.rs[name] = rs
	}
	return rs
}

// CreateCollection starts writing collection db.<md.CollectionName> of
// replica set rs. md.Type selects the layout: views get only a metadata
// file, timeseries collections keep their bucket documents in
// "system.buckets.<name>.bson.gz" as mongodump does; an empty Type is taken
// from md (views are recognised by options.viewOn) and stored as such.
// The returned writer must be closed (or aborted) before Finish.
func (w *Writer) CreateCollection(ctx context.Context, rs, db string, md Metadata) (*CollectionWriter, error) {
	if err := ValidateReplicaSetName(rs); err != nil {
		return nil, fmt.Errorf("snapshot writer: %w", err)
	}
	if err := ValidateDBName(db); err != nil {
		return nil, fmt.Errorf("snapshot writer: replica set %q: %w", rs, err)
	}
	if err := ValidateCollectionName(md.CollectionName); err != nil {
		return nil, fmt.Errorf("snapshot writer: %s: %w", db, err)
	}
	typ := md.EffectiveType()
	switch typ {
	case TypeCollection, TypeView, TypeTimeseries:
	default:
		return nil, fmt.Errorf("snapshot writer: %s.%s: unknown collection type %q", db, md.CollectionName, typ)
	}
	opts, err := optionsJSON(md.Options)
	if err != nil {
		return nil, fmt.Errorf("snapshot writer: %s.%s: %w", db, md.CollectionName, err)
	}
	ns := db + "." + md.CollectionName
	gzSuffix := ".gz"
	if w.level == 0 {
		gzSuffix = "" // stored uncompressed, as mongodump without --gzip
	}
	rsDir := EscapeReplicaSetName(rs)
	base := rsDir + "/" + db + "/"
	entry := Collection{
		DB:           db,
		Name:         md.CollectionName,
		Type:         typ,
		UUID:         md.UUID,
		Options:      opts,
		IndexCount:   len(md.Indexes),
		MetadataFile: base + EscapeCollectionName(md.CollectionName) + ".metadata.json" + gzSuffix,
	}
	if typ != TypeView {
		entry.DataFile = base + dataFileStem(md.CollectionName, typ) + ".bson" + gzSuffix
	}

	w.mu.Lock()
	if w.finished {
		w.mu.Unlock()
		return nil, fmt.Errorf("snapshot writer: %s: snapshot already finished", ns)
	}
	for _, f := range []string{entry.DataFile, entry.MetadataFile} {
		if f == "" {
			continue
		}
		if other, ok := w.reserved[f]; ok {
			w.mu.Unlock()
			return nil, fmt.Errorf("snapshot writer: replica set %q: %s and %s both map to file %q: %w", rs, other, ns, f, ErrInvalidName)
		}
	}
	for _, f := range []string{entry.DataFile, entry.MetadataFile} {
		if f != "" {
			w.reserved[f] = ns
		}
	}
	w.replicaSetLocked(rs)
	cw := &CollectionWriter{w: w, ctx: ctx, rs: rs, md: md, entry: entry}
	w.open[cw] = struct{}{}
	w.mu.Unlock()

	if entry.DataFile != "" {
		obj, err := w.st.Create(ctx, w.m.ID+"/"+entry.DataFile)
		if err != nil {
			w.release(cw)
			return nil, fmt.Errorf("snapshot writer: %s: %w", ns, err)
		}
		cw.obj = obj
		cw.counter = countingWriter{w: obj}
		cw.buf = bufio.NewWriterSize(&cw.counter, 256<<10)
		cw.data = cw.buf
		if w.level != 0 {
			gz, err := gzip.NewWriterLevel(cw.buf, w.level)
			if err != nil {
				_ = obj.Abort()
				w.release(cw)
				return nil, fmt.Errorf("snapshot writer: %s: %w", ns, err)
			}
			cw.gz, cw.data = gz, gz
		}
	}
	return cw, nil
}

// release forgets an open collection writer and its reserved file names.
func (w *Writer) release(cw *CollectionWriter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.open, cw)
	delete(w.reserved, cw.entry.DataFile)
	delete(w.reserved, cw.entry.MetadataFile)
}

// Finish writes the manifest, which makes the snapshot complete, and
// returns it. Every CollectionWriter must have been closed or aborted.
func (w *Writer) Finish(ctx context.Context) (*Manifest, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished {
		return nil, fmt.Errorf("snapshot writer: %s: already finished", w.m.ID)
	}
	if len(w.open) > 0 {
		return nil, fmt.Errorf("snapshot writer: %s: %d collection writer(s) still open", w.m.ID, len(w.open))
	}
	m := w.m
	m.CompletedAt = time.Now().UTC()
	m.ReplicaSets = make([]ReplicaSet, 0, len(w.rs))
	for _, rs := range w.rs {
		r := *rs
		r.Collections = append([]Collection{}, rs.Collections...)
		sort.Slice(r.Collections, func(i, j int) bool {
			a, b := r.Collections[i], r.Collections[j]
			if a.DB != b.DB {
				return a.DB < b.DB
			}
			return a.Name < b.Name
		})
		m.ReplicaSets = append(m.ReplicaSets, r)
	}
	sort.Slice(m.ReplicaSets, func(i, j int) bool { return m.ReplicaSets[i].Name < m.ReplicaSets[j].Name })
	if m.Type == ClusterReplicaSet && len(m.ReplicaSets) > 1 {
		return nil, fmt.Errorf("snapshot writer: %s: type %s with %d replica sets", m.ID, m.Type, len(m.ReplicaSets))
	}
	data, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("snapshot writer: %s: encode manifest: %w", m.ID, err)
	}
	data = append(data, '\n')
	obj, err := w.st.Create(ctx, m.ID+"/"+ManifestFile)
	if err != nil {
		return nil, fmt.Errorf("snapshot writer: %s: %w", m.ID, err)
	}
	if _, err := obj.Write(data); err != nil {
		_ = obj.Abort()
		return nil, fmt.Errorf("snapshot writer: %s: write manifest: %w", m.ID, err)
	}
	if err := obj.Close(); err != nil {
		return nil, fmt.Errorf("snapshot writer: %s: write manifest: %w", m.ID, err)
	}
	w.finished = true
	return &m, nil
}

// Abort aborts every open collection writer and deletes everything written
// for the snapshot. It must not be called after a successful Finish unless
// the snapshot should be deleted.
func (w *Writer) Abort(ctx context.Context) error {
	w.mu.Lock()
	open := make([]*CollectionWriter, 0, len(w.open))
	for cw := range w.open {
		open = append(open, cw)
	}
	w.finished = true
	w.mu.Unlock()
	for _, cw := range open {
		_ = cw.Abort()
	}
	if err := w.st.Delete(ctx, w.m.ID); err != nil {
		return fmt.Errorf("snapshot writer: abort %s: %w", w.m.ID, err)
	}
	return nil
}

// CollectionWriter streams the documents of one collection into a gzip
// data file and writes its metadata file on Close. It is not safe for
// concurrent use; different CollectionWriters of one Writer are.
type CollectionWriter struct {
	w     *Writer
	ctx   context.Context
	rs    string
	md    Metadata
	entry Collection

	obj     ObjectWriter
	counter countingWriter
	buf     *bufio.Writer
	gz      *gzip.Writer // nil for uncompressed data files
	data    io.Writer    // where documents go: gz, or buf when uncompressed

	count int64
	size  int64
	done  bool
	err   error
}

// Append adds one raw BSON document. The document is checked for a
// consistent length prefix, a terminating NUL and a size of at most
// MaxDocumentSize; it is copied, so the caller may reuse doc.
func (c *CollectionWriter) Append(doc []byte) error {
	if c.done {
		return fmt.Errorf("snapshot writer: %s.%s: append after close", c.entry.DB, c.entry.Name)
	}
	if c.err != nil {
		return c.err
	}
	if c.data == nil {
		return fmt.Errorf("snapshot writer: %s.%s: a view has no documents", c.entry.DB, c.entry.Name)
	}
	if err := checkDocument(doc); err != nil {
		return fmt.Errorf("snapshot writer: %s.%s: document %d: %w", c.entry.DB, c.entry.Name, c.count, err)
	}
	if _, err := c.data.Write(doc); err != nil {
		c.err = fmt.Errorf("snapshot writer: %s.%s: %w", c.entry.DB, c.entry.Name, err)
		return c.err
	}
	c.count++
	c.size += int64(len(doc))
	return nil
}

// Count returns the number of documents appended so far.
func (c *CollectionWriter) Count() int64 { return c.count }

// Size returns the number of BSON bytes appended so far.
func (c *CollectionWriter) Size() int64 { return c.size }

// Close finishes the data file, writes the metadata file and records the
// collection in the snapshot. On error the collection is not recorded and
// its objects are discarded.
func (c *CollectionWriter) Close() error {
	if c.done {
		return fmt.Errorf("snapshot writer: %s.%s: already closed", c.entry.DB, c.entry.Name)
	}
	if err := c.close(); err != nil {
		_ = c.Abort()
		return err
	}
	c.done = true
	w := c.w
	w.mu.Lock()
	delete(w.open, c)
	rs := w.replicaSetLocked(c.rs)
	rs.Collections = append(rs.Collections, c.entry)
	w.mu.Unlock()
	return nil
}

func (c *CollectionWriter) close() error {
	ns := c.entry.DB + "." + c.entry.Name
	if c.err != nil {
		return c.err
	}
	if c.data != nil {
		if c.gz != nil {
			if err := c.gz.Close(); err != nil {
				return fmt.Errorf("snapshot writer: %s: %w", ns, err)
			}
		}
		if err := c.buf.Flush(); err != nil {
			return fmt.Errorf("snapshot writer: %s: %w", ns, err)
		}
		if err := c.obj.Close(); err != nil {
			return fmt.Errorf("snapshot writer: %s: %w", ns, err)
		}
		c.entry.DocumentCount = c.count
		c.entry.BSONBytes = c.size
		c.entry.CompressedBytes = c.counter.n
	}
	md := c.md
	md.Type = c.entry.Type
	data, err := md.MarshalMongodump()
	if err != nil {
		return fmt.Errorf("snapshot writer: %w", err)
	}
	obj, err := c.w.st.Create(c.ctx, c.w.m.ID+"/"+c.entry.MetadataFile)
	if err != nil {
		return fmt.Errorf("snapshot writer: %s: %w", ns, err)
	}
	if c.w.level == 0 {
		_, err = obj.Write(data)
	} else {
		var gz *gzip.Writer
		gz, err = gzip.NewWriterLevel(obj, c.w.level)
		if err == nil {
			_, err = gz.Write(data)
		}
		if err == nil {
			err = gz.Close()
		}
	}
	if err != nil {
		_ = obj.Abort()
		return fmt.Errorf("snapshot writer: %s: write metadata: %w", ns, err)
	}
	if err := obj.Close(); err != nil {
		return fmt.Errorf("snapshot writer: %s: write metadata: %w", ns, err)
	}
	return nil
}

// Abort discards the collection. The data object is removed if it was
// already committed by a failed Close. Safe to call more than once and
// after Close (then it does nothing).
func (c *CollectionWriter) Abort() error {
	if c.done {
		return nil
	}
	c.done = true
	var err error
	if c.obj != nil {
		err = c.obj.Abort()
		if derr := c.w.st.Delete(c.ctx, c.w.m.ID+"/"+c.entry.DataFile); derr != nil && err == nil {
			err = derr
		}
	}
	c.w.release(c)
	if err != nil {
		return fmt.Errorf("snapshot writer: abort %s.%s: %w", c.entry.DB, c.entry.Name, err)
	}
	return nil
}

// checkDocument validates the framing of one raw BSON document.
func checkDocument(doc []byte) error {
	if len(doc) < 5 {
		return fmt.Errorf("%w: document of %d bytes is shorter than 5", ErrCorrupt, len(doc))
	}
	if n := binary.LittleEndian.Uint32(doc); int64(n) != int64(len(doc)) {
		return fmt.Errorf("%w: length prefix %d does not match document length %d", ErrCorrupt, n, len(doc))
	}
	if len(doc) > MaxDocumentSize {
		return fmt.Errorf("%w: document of %d bytes exceeds %d", ErrCorrupt, len(doc), MaxDocumentSize)
	}
	if doc[len(doc)-1] != 0 {
		return fmt.Errorf("%w: document does not end with a NUL byte", ErrCorrupt)
	}
	return nil
}

type countingWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
