package restore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/snapex/snapex/internal/blob"
)

// Complete is the .complete object Atlas and snapex write last under an
// export's prefix (behaviour notes §2.2).
type Complete struct {
	OrgID                  string `json:"orgId"`
	OrgName                string `json:"orgName"`
	GroupID                string `json:"groupId"`
	GroupName              string `json:"groupName"`
	ClusterUniqueID        string `json:"clusterUniqueId"`
	ClusterName            string `json:"clusterName"`
	SnapshotInitiationDate string `json:"snapshotInitiationDate"`
	// TotalFiles is the number of files the export uploaded; nil when the
	// field is absent.
	TotalFiles *int `json:"totalFiles"`
}

// DataFile is one <replicaSet>.<n>.json.gz object.
type DataFile struct {
	// Key is the object's full key.
	Key string
	// ReplicaSet and N come from the object's name.
	ReplicaSet string
	N          int
	// Size is the compressed size.
	Size int64
}

// Namespace is one exported collection.
type Namespace struct {
	DB, Coll string
	// Files are the data files, by replica set then number.
	Files []DataFile
	// MetadataKey is the key of metadata.json, "" when it is missing.
	MetadataKey string
	// Metadata is metadata.json parsed; nil when it is missing.
	Metadata *Metadata
}

// Name is "db.coll".
func (n *Namespace) Name() string { return n.DB + "." + n.Coll }

// Export is what Scan found under a prefix.
type Export struct {
	// Prefix is the export's prefix, without a trailing slash.
	Prefix string
	// Complete is .complete parsed, nil when it is missing.
	Complete *Complete
	// CompleteRaw is .complete's bytes.
	CompleteRaw []byte
	// Namespaces are sorted by name.
	Namespaces []*Namespace
	// Problems lists what is missing or inconsistent; Scan fails when it
	// is not empty unless incomplete exports are allowed.
	Problems []string
	// Notes lists objects that were ignored and other oddities that do
	// not stop a restore.
	Notes []string
}

// key joins the prefix and a relative key.
func (e *Export) key(rel string) string {
	if e.Prefix == "" {
		return rel
	}
	return e.Prefix + "/" + rel
}

// ErrIncomplete is wrapped by Scan's error for an export with problems.
var ErrIncomplete = errors.New("export is incomplete")

// Scan reads .complete and every metadata.json under prefix and lists the
// data files. Unless allowIncomplete, an export without .complete, with a
// gap in a collection's data file numbers, with data files but no
// metadata.json, or with fewer objects than .complete's totalFiles is
// refused with an error wrapping ErrIncomplete that names what is missing.
func Scan(ctx context.Context, b blob.Bucket, prefix string, allowIncomplete bool) (*Export, error) {
	ex := &Export{Prefix: strings.TrimSuffix(prefix, "/")}
	raw, err := b.ReadAll(ctx, ex.key(".complete"))
	switch {
	case err == nil:
		var c Complete
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, fmt.Errorf("%s: not a .complete object: %w", ex.key(".complete"), err)
		}
		ex.Complete, ex.CompleteRaw = &c, raw
	case blob.KindOf(err) == blob.KindNotFound:
		ex.Problems = append(ex.Problems, fmt.Sprintf("%s is missing: the export did not finish, or the prefix is not an export's", ex.key(".complete")))
	default:
		return nil, fmt.Errorf("read %s: %w", ex.key(".complete"), err)
	}

	byName := map[string]*Namespace{}
	listPrefix := ""
	if ex.Prefix != "" {
		listPrefix = ex.Prefix + "/"
	}
	for obj, err := range b.List(ctx, listPrefix) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", listPrefix, err)
		}
		rel := strings.TrimPrefix(obj.Key, listPrefix)
		parts := strings.Split(rel, "/")
		if len(parts) < 3 {
			if rel != ".complete" {
				ex.Notes = append(ex.Notes, "ignored "+obj.Key)
			}
			continue
		}
		// Database names cannot hold "/", collection names can.
		db, coll, file := parts[0], strings.Join(parts[1:len(parts)-1], "/"), parts[len(parts)-1]
		ns := byName[db+"."+coll]
		if ns == nil {
			ns = &Namespace{DB: db, Coll: coll}
			byName[db+"."+coll] = ns
		}
		if file == "metadata.json" {
			ns.MetadataKey = obj.Key
			continue
		}
		rs, n, ok := parseDataName(file)
		if !ok {
			ex.Notes = append(ex.Notes, "ignored "+obj.Key)
			continue
		}
		ns.Files = append(ns.Files, DataFile{Key: obj.Key, ReplicaSet: rs, N: n, Size: obj.Size})
	}
	dataFiles, metaFiles := 0, 0
	// metadata.json files are read concurrently: an export of thousands
	// of collections in a cloud bucket would otherwise wait a round trip
	// per collection.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, ns := range byName {
		if len(ns.Files) == 0 && ns.MetadataKey == "" {
			continue
		}
		ex.Namespaces = append(ex.Namespaces, ns)
		dataFiles += len(ns.Files)
		ex.Problems = append(ex.Problems, ns.checkFiles()...)
		if ns.MetadataKey == "" {
			ex.Problems = append(ex.Problems, fmt.Sprintf("%s has data files but no metadata.json", ex.key(ns.DB+"/"+ns.Coll)))
			continue
		}
		metaFiles++
		g.Go(func() error {
			data, err := b.ReadAll(gctx, ns.MetadataKey)
			if err != nil {
				return fmt.Errorf("read %s: %w", ns.MetadataKey, err)
			}
			md, err := ParseMetadata(data)
			if err != nil {
				return fmt.Errorf("%s: %w", ns.MetadataKey, err)
			}
			ns.Metadata = md
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	sort.Slice(ex.Namespaces, func(i, j int) bool {
		a, b := ex.Namespaces[i], ex.Namespaces[j]
		if a.DB != b.DB {
			return a.DB < b.DB
		}
		return a.Coll < b.Coll
	})
	if ex.Complete != nil && ex.Complete.TotalFiles != nil {
		// Atlas does not say whether totalFiles counts metadata.json
		// files (snapex's export counts them): either reading is accepted.
		total := *ex.Complete.TotalFiles
		switch found := dataFiles + metaFiles; {
		case total == found || total == dataFiles:
		case total > found:
			ex.Problems = append(ex.Problems, fmt.Sprintf(".complete lists totalFiles %d but only %d objects are under %s (%d data files, %d metadata.json): %d missing",
				total, found, ex.key(""), dataFiles, metaFiles, total-found))
		default:
			ex.Notes = append(ex.Notes, fmt.Sprintf(".complete lists totalFiles %d, fewer than the %d data files and %d metadata.json found", total, dataFiles, metaFiles))
		}
	}
	sort.Strings(ex.Problems)
	if len(ex.Problems) > 0 && !allowIncomplete {
		return ex, fmt.Errorf("%w (restore it anyway with --allow-incomplete): %s", ErrIncomplete, strings.Join(ex.Problems, "; "))
	}
	return ex, nil
}

// checkFiles sorts ns.Files and reports numbering gaps per replica set
// (numbers run from 0 without gaps).
func (ns *Namespace) checkFiles() []string {
	sort.Slice(ns.Files, func(i, j int) bool {
		a, b := ns.Files[i], ns.Files[j]
		if a.ReplicaSet != b.ReplicaSet {
			return a.ReplicaSet < b.ReplicaSet
		}
		return a.N < b.N
	})
	var problems []string
	next := map[string]int{}
	for _, f := range ns.Files {
		for want := next[f.ReplicaSet]; want < f.N; want++ {
			dir := f.Key[:strings.LastIndexByte(f.Key, '/')+1]
			problems = append(problems, fmt.Sprintf("data file %s%s.%d.json.gz is missing (%s has %s.%d.json.gz)", dir, f.ReplicaSet, want, ns.Name(), f.ReplicaSet, f.N))
		}
		next[f.ReplicaSet] = f.N + 1
	}
	return problems
}

// parseDataName splits "<replicaSet>.<n>.json.gz".
func parseDataName(file string) (string, int, bool) {
	base, ok := strings.CutSuffix(file, ".json.gz")
	if !ok {
		return "", 0, false
	}
	dot := strings.LastIndexByte(base, '.')
	if dot <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(base[dot+1:])
	if err != nil || n < 0 {
		return "", 0, false
	}
	return base[:dot], n, true
}
