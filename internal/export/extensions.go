package export

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/manifest"
	"github.com/snapex/snapex/internal/snapshot"
)

// This file holds what snapexOptions add to a plain export: the
// namespace filter, output formats other than Extended JSON, the manifest
// and the extra fields of .complete. A job without options never reaches
// any of it, so plain exports stay object-for-object Atlas's.

// completeExtension is what .complete carries beyond Atlas's fields for a
// job with snapexOptions.
type completeExtension struct {
	SnapexOptions *atlas.ExportOptions `json:"snapexOptions,omitempty"`
	// SnapexFiles lists every data file and metadata.json, relative to the
	// prefix.
	SnapexFiles    []string            `json:"snapexFiles,omitempty"`
	SnapexManifest *manifest.Reference `json:"snapexManifest,omitempty"`
}

// selectNamespaces keeps the units and namespaces the job's nsInclude and
// nsExclude select, so exportStatus and .complete count only those.
func selectNamespaces(units []*unit, nss []*namespace, opts *atlas.ExportOptions) ([]*unit, []*namespace) {
	if opts == nil || (len(opts.NSInclude) == 0 && len(opts.NSExclude) == 0) {
		return units, nss
	}
	keep := func(db, coll string) bool { return opts.SelectsNamespace(db + "." + coll) }
	var us []*unit
	for _, u := range units {
		if keep(u.key.DB, u.key.Coll) {
			us = append(us, u)
		}
	}
	var ns []*namespace
	for _, n := range nss {
		if keep(n.db, n.coll) {
			ns = append(ns, n)
		}
	}
	return us, ns
}

// fileKey is the key of data file n of a unit in the job's format.
func fileKey(job *atlas.ExportJob, u *unit, n int) string {
	if job.Options == nil || job.Options.Format != atlas.FormatParquet {
		return dataKey(job.Prefix, u.key.DB, u.key.Coll, u.key.ReplicaSet, n)
	}
	return job.Prefix + "/" + u.key.DB + "/" + u.key.Coll + "/" + u.key.ReplicaSet + "." + strconv.Itoa(n) + job.Options.Extension()
}

// formatCollection returns the writer of a unit's files for a job whose
// format is not Extended JSON, or nil for Extended JSON (the engine's own
// compressor writes those).
func (e *Engine) formatCollection(ctx context.Context, snap *snapshot.Snapshot, job *atlas.ExportJob, u *unit) (format.Collection, error) {
	if job.Options == nil || job.Options.Format == "" || job.Options.Format == atlas.FormatEJSON {
		return nil, nil
	}
	f := e.Formats[job.Options.Format]
	if f == nil {
		return nil, failWith(atlas.CodeUnexpectedError, "this snapex build has no %s output format", job.Options.Format)
	}
	scan := func(ctx context.Context) (format.Documents, error) {
		r, err := snap.OpenCollection(ctx, u.key.ReplicaSet, u.key.DB, u.key.Coll)
		if err != nil {
			return nil, fmt.Errorf("open %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
		}
		return r, nil
	}
	c, err := f.Collection(ctx, scan, job.Options)
	if err != nil {
		return nil, fmt.Errorf("%s of %s.%s on %s: %w", job.Options.Format, u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
	}
	return c, nil
}

// documentCounter is told each data file's document count (the manifest
// recorder).
type documentCounter interface {
	SetDocuments(key string, docs int64)
}

// noteDocuments passes a finished data file's count to dest when it keeps
// a manifest.
func noteDocuments(dest blob.Bucket, key string, docs int64) {
	if c, ok := dest.(documentCounter); ok {
		c.SetDocuments(key, docs)
	}
}

// finishExtensions writes the manifest (when asked) and returns what
// .complete adds; nil for a plain job. progress is every unit's final
// progress; rec is the manifest recorder dest was wrapped in, or nil.
func (e *Engine) finishExtensions(ctx context.Context, dest blob.Bucket, rec *manifest.Recorder, snap *snapshot.Snapshot, snapRow *atlas.Snapshot, job *atlas.ExportJob, units []*unit, nss []*namespace, progress []atlas.Progress) (*completeExtension, error) {
	if job.Options == nil {
		return nil, nil
	}
	done := map[atlas.ProgressKey]atlas.Progress{}
	for _, p := range progress {
		done[p.ProgressKey] = p
	}
	rel := func(key string) string { return strings.TrimPrefix(key, job.Prefix+"/") }
	var files []manifest.File
	for _, u := range units {
		for n := 0; n < done[u.key].NextChunk; n++ {
			files = append(files, manifest.File{Key: fileKey(job, u, n), Kind: manifest.KindData, DB: u.key.DB, Collection: u.key.Coll})
		}
	}
	for _, ns := range nss {
		files = append(files, manifest.File{Key: metadataKey(job.Prefix, ns.db, ns.coll), Kind: manifest.KindMetadata, DB: ns.db, Collection: ns.coll})
	}
	ext := &completeExtension{SnapexOptions: job.Options}
	for i := range files {
		ext.SnapexFiles = append(ext.SnapexFiles, rel(files[i].Key))
	}
	sort.Strings(ext.SnapexFiles)
	if rec == nil {
		return ext, nil
	}
	for i := range files {
		f := &files[i]
		d, ok := rec.Digest(f.Key)
		docs, counted := rec.Documents(f.Key)
		if !ok || (f.Kind == manifest.KindData && !counted) {
			// Uploaded by an earlier attempt of this job: read it back.
			var err error
			if d, docs, err = manifest.Describe(ctx, dest, f.Key); err != nil {
				return nil, fmt.Errorf("manifest entry of %s: %w", f.Key, err)
			}
		}
		f.Key, f.Size, f.SHA256, f.Documents = rel(f.Key), d.Size, d.SHA256, docs
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Key < files[j].Key })
	m := manifest.Manifest{
		Version: manifest.Version, ExportJobID: job.ID, Options: job.Options, Files: files,
		Snapshot: manifest.Snapshot{ID: snapRow.ID, GroupID: snapRow.GroupID, ClusterName: snapRow.ClusterName,
			CreatedAt: snapRow.CreatedAt.UTC(), Consistency: snap.Manifest.Consistency},
		Collections: []manifest.Collection{},
	}
	for _, ns := range nss {
		c := manifest.Collection{DB: ns.db, Collection: ns.coll}
		for _, u := range ns.units {
			c.Documents += u.coll.DocumentCount
		}
		m.Collections = append(m.Collections, c)
	}
	body, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	key := job.Prefix + "/" + manifest.Name
	if err := dest.WriteAll(ctx, key, body, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return nil, fmt.Errorf("write %s: %w", key, err)
	}
	if err := dest.Sync(ctx); err != nil {
		return nil, fmt.Errorf("make %s durable: %w", key, err)
	}
	d, _ := rec.Digest(key)
	ext.SnapexManifest = &manifest.Reference{Key: manifest.Name, SHA256: d.SHA256}
	return ext, nil
}
