package snapshot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/snapex/snapex/internal/atlas"
)

// ImportOptions describe the snapshot Import registers.
type ImportOptions struct {
	// SnapshotID names the new snapshot (required).
	SnapshotID string
	// ClusterName is recorded in the manifest.
	ClusterName string
	// ReplicaSetName is the replica set a single-replica-set dump (database
	// directories at the top) belongs to; required for that layout and
	// refused for the per-replica-set layout, whose directory names are used.
	ReplicaSetName string
	// DefaultReplicaSetName names a single-replica-set dump when
	// ReplicaSetName is empty; unlike ReplicaSetName it is ignored for the
	// per-replica-set layout, so a caller need not know the layout.
	DefaultReplicaSetName string
	// CreatedAt is the snapshot time (the dump time); now when zero.
	CreatedAt time.Time
	// Type overrides the cluster type, which is otherwise replicaSet for
	// one replica set and shardedCluster for several.
	Type ClusterType
	// MongodVersion is recorded in the manifest when known and the dump's
	// own prelude.json names no server version (the dump's record wins).
	MongodVersion string
	// WriterOptions are passed to NewWriter (e.g. WithGzipLevel).
	WriterOptions []WriterOption
}

// Import registers a mongodump output directory as snapshot
// opts.SnapshotID in dst and returns its manifest.
//
// Two layouts are recognised: database directories at the top
// ("<db>/<coll>.bson[.gz]" with "<coll>.metadata.json[.gz]"), which form one
// replica set named opts.ReplicaSetName; or one directory per replica set
// containing such database directories. Files may be gzip-compressed or
// not, whatever their names say: a ".gz" suffix requires gzip content, and
// content starting with the gzip magic is decompressed. Every document is
// checked and counted while it is copied.
//
// Left out, and listed in Manifest.Import.Skipped: oplog.bson and
// prelude.json at the top (the oplog is not replayed, so the snapshot's
// guarantee is "none"); the admin, config and local databases; system
// collections other than system.js (bucket collections of timeseries
// collections are kept as their data); mongodump's "$admin.*" files; hidden
// files. Views are stored as metadata-only entries. Anything else that does
// not fit the layout is an error naming the file, and nothing is written
// before the whole directory has been checked.
func Import(ctx context.Context, srcDir string, dst Storage, opts ImportOptions) (*Manifest, error) {
	root, err := os.OpenRoot(srcDir)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	defer root.Close()
	in := &importer{root: root, src: srcDir}
	rsets, err := in.plan(opts)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", srcDir, err)
	}
	typ := opts.Type
	if typ == "" {
		typ = ClusterReplicaSet
		if len(rsets) > 1 {
			typ = ClusterShardedCluster
		}
	}
	abs, err := filepath.Abs(srcDir)
	if err != nil {
		abs = srcDir
	}
	base := Manifest{
		ID:            opts.SnapshotID,
		ClusterName:   opts.ClusterName,
		CreatedAt:     opts.CreatedAt.UTC(),
		Type:          typ,
		MongodVersion: in.mongodVersion(rsets, opts.MongodVersion),
		Consistency:   Consistency{Guarantee: GuaranteeNone},
		Import:        &ImportInfo{Source: abs, Skipped: in.skipped},
	}
	w, err := NewWriter(ctx, dst, base, opts.WriterOptions...)
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", srcDir, err)
	}
	for _, rs := range rsets {
		if err := w.AddReplicaSet(rs.name); err != nil {
			return nil, in.abort(ctx, w, err)
		}
		for _, c := range rs.colls {
			if err := in.copyCollection(ctx, w, rs.name, c); err != nil {
				return nil, in.abort(ctx, w, err)
			}
		}
	}
	m, err := w.Finish(ctx)
	if err != nil {
		return nil, in.abort(ctx, w, err)
	}
	return m, nil
}

type importer struct {
	root    *os.Root
	src     string
	skipped []SkippedFile
}

type plannedRS struct {
	name  string
	colls []plannedColl
}

type plannedColl struct {
	db       string
	md       Metadata
	dataFile string // relative to the source root; "" for views
}

// importError names a file of the source directory.
func (in *importer) errorf(rel, format string, args ...any) error {
	return fmt.Errorf("%s: %s", filepath.Join(in.src, filepath.FromSlash(rel)), fmt.Sprintf(format, args...))
}

func (in *importer) skip(rel, reason string) {
	in.skipped = append(in.skipped, SkippedFile{File: rel, Reason: reason})
}

func (in *importer) abort(ctx context.Context, w *Writer, err error) error {
	if aerr := w.Abort(context.WithoutCancel(ctx)); aerr != nil {
		return fmt.Errorf("import %s: %w (cleanup also failed: %v)", in.src, err, aerr)
	}
	return fmt.Errorf("import %s: %w", in.src, err)
}

// dump file suffixes, longest first so ".bson.gz" wins over ".bson".
var dumpSuffixes = []struct {
	suffix string
	meta   bool
}{
	{".metadata.json.gz", true},
	{".metadata.json", true},
	{".bson.gz", false},
	{".bson", false},
	{".bin", false},
}

func splitDumpName(name string) (stem string, meta bool, ok bool) {
	for _, s := range dumpSuffixes {
		if strings.HasSuffix(name, s.suffix) && len(name) > len(s.suffix) {
			return strings.TrimSuffix(name, s.suffix), s.meta, true
		}
	}
	return "", false, false
}

// readDir lists a directory of the source, sorted by name.
func (in *importer) readDir(rel string) ([]os.DirEntry, error) {
	f, err := in.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, in.errorf(rel, "%v", err)
	}
	defer f.Close()
	ents, err := f.ReadDir(-1)
	if err != nil {
		return nil, in.errorf(rel, "%v", err)
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	return ents, nil
}

// isDBDir reports whether a directory is a database directory: it directly
// contains dump files. "oplog.bson" alone is ambiguous (a replica-set
// directory has one next to its database directories; a collection may be
// named "oplog"), so it counts only when there are no subdirectories.
func (in *importer) isDBDir(rel string) (bool, error) {
	ents, err := in.readDir(rel)
	if err != nil {
		return false, err
	}
	var oplog, subdirs bool
	for _, e := range ents {
		if e.IsDir() {
			subdirs = subdirs || !strings.HasPrefix(e.Name(), ".")
			continue
		}
		if _, _, ok := splitDumpName(e.Name()); !ok {
			continue
		}
		if topLevelFiles[e.Name()] != "" {
			oplog = true
			continue
		}
		return true, nil
	}
	return oplog && !subdirs, nil
}

// topLevelFiles are files mongodump writes next to database directories,
// with the reason Import skips them.
var topLevelFiles = map[string]string{
	"oplog.bson":      "oplog is not replayed",
	"oplog.bson.gz":   "oplog is not replayed",
	"prelude.json":    "mongodump prelude",
	"prelude.json.gz": "mongodump prelude",
}

func (in *importer) plan(opts ImportOptions) ([]plannedRS, error) {
	if err := ValidateSnapshotID(opts.SnapshotID); err != nil {
		return nil, err
	}
	dbDirs, rsDirs, err := in.scanTop(".")
	if err != nil {
		return nil, err
	}
	switch {
	case len(dbDirs) > 0 && len(rsDirs) > 0:
		return nil, fmt.Errorf("mixed layout: %v hold dump files but %v only hold directories; expected either <db>/ directories or <replica set>/<db>/ directories", dbDirs, rsDirs)
	case len(rsDirs) > 0:
		if opts.ReplicaSetName != "" {
			return nil, fmt.Errorf("ReplicaSetName %q given, but the dump has one directory per replica set (%v)", opts.ReplicaSetName, rsDirs)
		}
		var out []plannedRS
		for _, rs := range rsDirs {
			if err := ValidateReplicaSetName(rs); err != nil {
				return nil, in.errorf(rs, "%v", err)
			}
			dbs, sub, err := in.scanTop(rs)
			if err != nil {
				return nil, err
			}
			if len(sub) > 0 {
				return nil, in.errorf(path.Join(rs, sub[0]), "directory without dump files inside replica set directory %q", rs)
			}
			p := plannedRS{name: rs}
			for _, db := range dbs {
				colls, err := in.planDB(path.Join(rs, db), db)
				if err != nil {
					return nil, err
				}
				p.colls = append(p.colls, colls...)
			}
			out = append(out, p)
		}
		return out, nil
	default:
		if opts.ReplicaSetName == "" {
			opts.ReplicaSetName = opts.DefaultReplicaSetName
		}
		if opts.ReplicaSetName == "" {
			return nil, errors.New("ImportOptions.ReplicaSetName is required for a dump with database directories at the top")
		}
		if err := ValidateReplicaSetName(opts.ReplicaSetName); err != nil {
			return nil, err
		}
		p := plannedRS{name: opts.ReplicaSetName}
		for _, db := range dbDirs {
			colls, err := in.planDB(db, db)
			if err != nil {
				return nil, err
			}
			p.colls = append(p.colls, colls...)
		}
		return []plannedRS{p}, nil
	}
}

// scanTop classifies the entries of the dump root (or of a replica-set
// directory): directories holding dump files are databases, directories
// holding only directories are replica sets. Known top-level files are
// skipped; other files are errors.
func (in *importer) scanTop(rel string) (dbDirs, otherDirs []string, err error) {
	ents, err := in.readDir(rel)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range ents {
		name := e.Name()
		child := path.Join(rel, name)
		if strings.HasPrefix(name, ".") {
			in.skip(child, "hidden file")
			continue
		}
		if !e.IsDir() {
			if reason := topLevelFiles[name]; reason != "" {
				in.skip(child, reason)
				continue
			}
			if _, _, ok := splitDumpName(name); ok {
				return nil, nil, in.errorf(child, "dump file outside a database directory")
			}
			return nil, nil, in.errorf(child, "unexpected file in dump directory")
		}
		isDB, err := in.isDBDir(child)
		if err != nil {
			return nil, nil, err
		}
		if isDB {
			dbDirs = append(dbDirs, name)
			continue
		}
		ents, err := in.readDir(child)
		if err != nil {
			return nil, nil, err
		}
		if len(ents) == 0 {
			in.skip(child, "empty directory")
			continue
		}
		otherDirs = append(otherDirs, name)
	}
	return dbDirs, otherDirs, nil
}

type stemFiles struct {
	bson, meta string // file names in the database directory
}

// planDB checks one database directory and returns the collections to copy.
func (in *importer) planDB(rel, db string) ([]plannedColl, error) {
	if err := ValidateDBName(db); err != nil {
		return nil, in.errorf(rel, "directory name is not a valid database name: %v", err)
	}
	ents, err := in.readDir(rel)
	if err != nil {
		return nil, err
	}
	if !atlas.ExportedDatabase(db) {
		in.skip(rel, "internal database")
		return nil, nil
	}
	stems := map[string]*stemFiles{}
	var order []string
	for _, e := range ents {
		name := e.Name()
		child := path.Join(rel, name)
		if strings.HasPrefix(name, ".") {
			in.skip(child, "hidden file")
			continue
		}
		stem, meta, ok := splitDumpName(name)
		if !ok || e.IsDir() {
			return nil, in.errorf(child, "unexpected entry in database directory (want <collection>.bson[.gz] or <collection>.metadata.json[.gz])")
		}
		sf := stems[stem]
		if sf == nil {
			sf = &stemFiles{}
			stems[stem] = sf
			order = append(order, stem)
		}
		slot := &sf.bson
		if meta {
			slot = &sf.meta
		}
		if *slot != "" {
			return nil, in.errorf(child, "duplicate of %s", *slot)
		}
		*slot = name
	}
	sort.Strings(order)

	// Metadata first: it names collections (shortened file names) and says
	// which are views and timeseries.
	mds := map[string]*Metadata{}
	for _, stem := range order {
		sf := stems[stem]
		if sf.meta == "" {
			continue
		}
		md, err := in.readMetadata(path.Join(rel, sf.meta))
		if err != nil {
			return nil, err
		}
		if md.CollectionName == "" {
			name, ok, err := UnescapeCollectionName(stem)
			if err != nil || !ok {
				return nil, in.errorf(path.Join(rel, sf.meta), "no collectionName and the file name cannot be unescaped")
			}
			md.CollectionName = name
		}
		mds[stem] = md
	}

	var out []plannedColl
	usedBSON := map[string]bool{}
	for _, stem := range order {
		sf := stems[stem]
		md := mds[stem]
		if md == nil {
			continue
		}
		metaRel := path.Join(rel, sf.meta)
		name := md.CollectionName
		if skip, reason := skipCollection(name); skip {
			in.skip(metaRel, reason)
			if sf.bson != "" {
				in.skip(path.Join(rel, sf.bson), reason)
				usedBSON[stem] = true
			}
			continue
		}
		if err := ValidateCollectionName(name); err != nil {
			return nil, in.errorf(metaRel, "%v", err)
		}
		switch md.EffectiveType() {
		case TypeView:
			if sf.bson != "" {
				in.skip(path.Join(rel, sf.bson), "documents of a view")
				usedBSON[stem] = true
			}
			md.Type = TypeView
			out = append(out, plannedColl{db: db, md: *md})
		case TypeTimeseries:
			bstem := EscapeCollectionName(timeseriesBucketsPrefix + name)
			bf := stems[bstem]
			if bf == nil || bf.bson == "" {
				return nil, in.errorf(metaRel, "timeseries collection %q has no %s.bson[.gz] bucket file", name, bstem)
			}
			usedBSON[bstem] = true
			if sf.bson != "" {
				return nil, in.errorf(path.Join(rel, sf.bson), "timeseries collection %q stores its data in %s, not here", name, bf.bson)
			}
			out = append(out, plannedColl{db: db, md: *md, dataFile: path.Join(rel, bf.bson)})
		case TypeCollection:
			if sf.bson == "" {
				return nil, in.errorf(metaRel, "metadata of collection %q without a data file (%s.bson)", name, stem)
			}
			usedBSON[stem] = true
			out = append(out, plannedColl{db: db, md: *md, dataFile: path.Join(rel, sf.bson)})
		default:
			return nil, in.errorf(metaRel, "unknown collection type %q", md.Type)
		}
	}
	// Data files without metadata (or not claimed by a timeseries collection).
	for _, stem := range order {
		sf := stems[stem]
		if sf.bson == "" || usedBSON[stem] || mds[stem] != nil {
			continue
		}
		dataRel := path.Join(rel, sf.bson)
		name, ok, err := UnescapeCollectionName(stem)
		if err != nil {
			return nil, in.errorf(dataRel, "%v", err)
		}
		if !ok {
			return nil, in.errorf(dataRel, "shortened file name without a metadata file naming the collection")
		}
		if skip, reason := skipCollection(name); skip {
			in.skip(dataRel, reason)
			continue
		}
		if err := ValidateCollectionName(name); err != nil {
			return nil, in.errorf(dataRel, "%v", err)
		}
		out = append(out, plannedColl{db: db, md: Metadata{CollectionName: name}, dataFile: dataRel})
	}
	return out, nil
}

// skipCollection applies Atlas's export rule: no system collections except
// system.js, and none of mongodump's "$admin.*" files.
func skipCollection(name string) (bool, string) {
	switch {
	case strings.HasPrefix(name, "$"):
		return true, "mongodump admin file"
	case !atlas.ExportedCollectionName(name):
		return true, "system collection"
	}
	return false, ""
}

func (in *importer) readMetadata(rel string) (*Metadata, error) {
	f, err := in.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return nil, in.errorf(rel, "%v", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if strings.HasSuffix(rel, ".gz") && !isGzip(br) {
		return nil, in.errorf(rel, "named .gz but not gzip-compressed")
	}
	data, err := readMaybeGzip(br, rel, maxMetadataSize)
	if err != nil {
		return nil, in.errorf(rel, "%v", err)
	}
	md, err := ParseMetadata(data)
	if err != nil {
		return nil, in.errorf(rel, "%v", err)
	}
	return md, nil
}

// copyCollection copies one planned collection into the snapshot.
func (in *importer) copyCollection(ctx context.Context, w *Writer, rs string, c plannedColl) error {
	cw, err := w.CreateCollection(ctx, rs, c.db, c.md)
	if err != nil {
		return err
	}
	defer cw.Abort()
	if c.dataFile != "" {
		if err := in.copyDocuments(ctx, cw, c.dataFile); err != nil {
			return err
		}
	}
	return cw.Close()
}

func (in *importer) copyDocuments(ctx context.Context, cw *CollectionWriter, rel string) error {
	f, err := in.root.Open(filepath.FromSlash(rel))
	if err != nil {
		return in.errorf(rel, "%v", err)
	}
	defer f.Close()
	name := filepath.Join(in.src, filepath.FromSlash(rel))
	br := bufio.NewReaderSize(f, 64<<10)
	gzipped := isGzip(br)
	if strings.HasSuffix(rel, ".gz") && !gzipped {
		return in.errorf(rel, "named .gz but not gzip-compressed")
	}
	dr, err := newStreamDocumentReader(br, nil, gzipped, name)
	if err != nil {
		return err
	}
	defer dr.Close()
	dr.ctx = ctx
	for {
		doc, err := dr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := cw.Append(doc); err != nil {
			return err
		}
	}
}
