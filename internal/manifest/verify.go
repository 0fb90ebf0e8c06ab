package manifest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/snapex/snapex/internal/blob"
)

// OpenSource opens an export URL as a bucket and the prefix of the export
// inside it. cmd wires the schemes it knows.
type OpenSource func(ctx context.Context, url string) (blob.Bucket, string, error)

// Result is the verdict on one object.
type Result struct {
	Key       string `json:"key"`
	OK        bool   `json:"ok"`
	Problem   string `json:"problem,omitempty"`
	Size      int64  `json:"size"`
	Documents int64  `json:"documents"`
}

// Report is the verdict on one export.
type Report struct {
	Prefix string `json:"prefix"`
	// WithManifest says whether files were checked against a manifest
	// (else only as far as .complete and metadata.json allow).
	WithManifest bool     `json:"withManifest"`
	Files        []Result `json:"files"`
	// Problems are findings about the export as a whole (counts).
	Problems []string `json:"problems,omitempty"`
}

// OK reports whether nothing is wrong.
func (r *Report) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, f := range r.Files {
		if !f.OK {
			return false
		}
	}
	return true
}

func (r *Report) fail(key, format string, args ...any) {
	r.Files = append(r.Files, Result{Key: key, Problem: fmt.Sprintf(format, args...)})
}

// complete is what the verifier reads of .complete.
type complete struct {
	TotalFiles     *int       `json:"totalFiles"`
	SnapexManifest *Reference `json:"snapexManifest"`
	SnapexFiles    []string   `json:"snapexFiles"`
}

// Verify checks the export under prefix in b, reporting per object.
// With a manifest: every listed file present with its size and SHA-256,
// nothing unlisted, document counts adding up to the snapshot's per
// collection, the manifest's SHA-256 equal to the one .complete records.
// Without (plain snapex exports, real Atlas exports): .complete parses,
// totalFiles equals the data files plus metadata.json files present,
// chunk numbers run without gaps, every gzip stream is whole with one
// JSON document per line, every metadata.json parses.
func Verify(ctx context.Context, b blob.Bucket, prefix string) (*Report, error) {
	prefix = strings.TrimSuffix(prefix, "/")
	rep := &Report{Prefix: prefix}
	// base is what precedes a relative key; an export at the root of a
	// bucket (a local directory given as is) has none.
	base := ""
	if prefix != "" {
		base = prefix + "/"
	}
	objects := map[string]int64{}
	for info, err := range b.List(ctx, base) {
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		objects[strings.TrimPrefix(info.Key, base)] = info.Size
	}
	if len(objects) == 0 {
		if prefix == "" {
			return nil, errors.New("no export there: the location holds no objects")
		}
		return nil, fmt.Errorf("no export there: nothing under the prefix %s/", prefix)
	}
	var c complete
	if raw, err := b.ReadAll(ctx, base+".complete"); err != nil {
		rep.fail(".complete", "missing or unreadable: %v", err)
	} else if err := json.Unmarshal(raw, &c); err != nil || c.TotalFiles == nil {
		rep.fail(".complete", "not the JSON object of an export (%v)", err)
	} else {
		rep.Files = append(rep.Files, Result{Key: ".complete", OK: true, Size: int64(len(raw))})
	}
	if _, ok := objects[Name]; ok || c.SnapexManifest != nil {
		rep.WithManifest = true
		if err := verifyWithManifest(ctx, b, base, objects, &c, rep); err != nil {
			return nil, err
		}
	} else {
		if err := verifyPlain(ctx, b, base, objects, &c, rep); err != nil {
			return nil, err
		}
	}
	sort.SliceStable(rep.Files, func(i, j int) bool { return rep.Files[i].Key < rep.Files[j].Key })
	return rep, nil
}

func verifyWithManifest(ctx context.Context, b blob.Bucket, base string, objects map[string]int64, c *complete, rep *Report) error {
	raw, err := b.ReadAll(ctx, base+Name)
	if err != nil {
		rep.fail(Name, "missing or unreadable, though .complete names it: %v", err)
		return nil
	}
	sum := sha256.Sum256(raw)
	mres := Result{Key: Name, OK: true, Size: int64(len(raw))}
	if c.SnapexManifest == nil {
		mres.OK, mres.Problem = false, ".complete records no manifest SHA-256 (missing or altered .complete)"
	} else if got := hex.EncodeToString(sum[:]); got != c.SnapexManifest.SHA256 {
		mres.OK, mres.Problem = false, fmt.Sprintf("SHA-256 %s differs from %s recorded in .complete: the manifest was changed after the export", got, c.SnapexManifest.SHA256)
	}
	rep.Files = append(rep.Files, mres)
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		rep.fail(Name, "not a manifest: %v", err)
		return nil
	}
	listed := map[string]bool{".complete": true, Name: true}
	perColl := map[[2]string]int64{}
	count := 0
	for _, f := range m.Files {
		listed[f.Key] = true
		count++
		perColl[[2]string{f.DB, f.Collection}] += f.Documents
		res := Result{Key: f.Key, Size: f.Size, Documents: f.Documents}
		size, ok := objects[f.Key]
		switch {
		case !ok:
			res.Problem = "missing (listed in the manifest)"
		case size != f.Size:
			res.Problem = fmt.Sprintf("size %d, manifest says %d (truncated or rewritten)", size, f.Size)
		default:
			d, err := digestOnly(ctx, b, base+f.Key)
			switch {
			case err != nil:
				res.Problem = err.Error()
			case d.SHA256 != f.SHA256:
				res.Problem = fmt.Sprintf("content differs: SHA-256 %s, manifest says %s", d.SHA256, f.SHA256)
			}
		}
		res.OK = res.Problem == ""
		rep.Files = append(rep.Files, res)
	}
	for key := range objects {
		if !listed[key] {
			rep.fail(key, "extra object, not in the manifest")
		}
	}
	for _, col := range m.Collections {
		if got := perColl[[2]string{col.DB, col.Collection}]; got != col.Documents {
			rep.Problems = append(rep.Problems, fmt.Sprintf("%s.%s: files hold %d documents, the snapshot %d", col.DB, col.Collection, got, col.Documents))
		}
	}
	if c.TotalFiles != nil && *c.TotalFiles != count {
		rep.Problems = append(rep.Problems, fmt.Sprintf(".complete totalFiles is %d, the manifest lists %d", *c.TotalFiles, count))
	}
	return nil
}

// digestOnly hashes an object as it streams by, without decoding it.
func digestOnly(ctx context.Context, b blob.Bucket, key string) (Digest, error) {
	rc, err := b.NewReader(ctx, key)
	if err != nil {
		return Digest{}, fmt.Errorf("open %s: %w", key, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	if err != nil {
		return Digest{}, fmt.Errorf("read %s: %w", key, err)
	}
	return Digest{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

func verifyPlain(ctx context.Context, b blob.Bucket, base string, objects map[string]int64, c *complete, rep *Report) error {
	keys := make([]string, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	chunks := map[string][]int{} // "db/coll/rs" → chunk numbers
	ext := map[string]string{}
	dirs := map[string]bool{}
	hasMeta := map[string]bool{}
	files := 0
	for _, key := range keys {
		if key == ".complete" {
			continue
		}
		dir, name := path.Split(key)
		dir = strings.TrimSuffix(dir, "/")
		res := Result{Key: key, Size: objects[key]}
		switch {
		case name == "metadata.json":
			files++
			hasMeta[dir] = true
			raw, err := b.ReadAll(ctx, base+key)
			if err != nil {
				res.Problem = fmt.Sprintf("unreadable: %v", err)
			} else if !validDocument(bytes.TrimSpace(raw)) {
				res.Problem = "not one JSON object"
			}
		case strings.HasSuffix(name, ".json.gz") || strings.HasSuffix(name, ".parquet"):
			files++
			dirs[dir] = true
			e := ".json.gz"
			if strings.HasSuffix(name, ".parquet") {
				e = ".parquet"
			}
			stem := strings.TrimSuffix(name, e)
			dot := strings.LastIndexByte(stem, '.')
			n, err := strconv.Atoi(stem[dot+1:])
			if dot < 0 || err != nil || n < 0 {
				res.Problem = "not named <replicaSet>.<n>" + e
				break
			}
			rsKey := dir + "/" + stem[:dot]
			chunks[rsKey] = append(chunks[rsKey], n)
			ext[rsKey] = e
			_, docs, err := Describe(ctx, b, base+key)
			if err != nil {
				res.Problem = err.Error()
			}
			res.Documents = docs
		default:
			res.Problem = "unexpected object in an export"
		}
		res.OK = res.Problem == ""
		rep.Files = append(rep.Files, res)
	}
	for rsKey, ns := range chunks {
		sort.Ints(ns)
		for i, n := range ns {
			if n != i {
				rep.fail(rsKey+"."+strconv.Itoa(i)+ext[rsKey], "missing: chunk numbers jump from %d to %d", i-1, n)
				break
			}
		}
	}
	for dir := range dirs {
		if !hasMeta[dir] {
			rep.fail(dir+"/metadata.json", "missing: the collection has data files but no metadata.json")
		}
	}
	if len(c.SnapexFiles) > 0 {
		for _, k := range c.SnapexFiles {
			if _, ok := objects[k]; !ok {
				rep.fail(k, "missing (listed in .complete)")
			}
		}
	}
	if c.TotalFiles != nil && *c.TotalFiles != files {
		rep.Problems = append(rep.Problems, fmt.Sprintf(".complete totalFiles is %d, %d data and metadata.json files are present", *c.TotalFiles, files))
	}
	return nil
}

// validDocument reports whether line is one JSON object.
func validDocument(line []byte) bool {
	return len(line) > 1 && line[0] == '{' && json.Valid(line)
}

// ErrFailed is returned by callers that turn a failed report into an error.
var ErrFailed = errors.New("export verification failed")
