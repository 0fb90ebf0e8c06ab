package export

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/manifest"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
	"golang.org/x/sync/errgroup"
)

// unit is one collection on one replica set.
type unit struct {
	key  atlas.ProgressKey
	coll *snapshot.Collection
}

// namespace is a collection across every replica set that holds it.
type namespace struct {
	db, coll string
	units    []*unit
}

// exportable reports whether Atlas exports a collection of a snapshot.
func exportable(c *snapshot.Collection) bool {
	return atlas.ExportsCollection(c.DB, c.Name, c.Type == snapshot.TypeView)
}

// plan lists the units and namespaces of a snapshot in a stable order.
func plan(m *snapshot.Manifest) ([]*unit, []*namespace) {
	var units []*unit
	byNS := map[[2]string]*namespace{}
	var nss []*namespace
	for ri := range m.ReplicaSets {
		rs := &m.ReplicaSets[ri]
		for ci := range rs.Collections {
			c := &rs.Collections[ci]
			if !exportable(c) {
				continue
			}
			u := &unit{key: atlas.ProgressKey{ReplicaSet: rs.Name, DB: c.DB, Coll: c.Name}, coll: c}
			units = append(units, u)
			k := [2]string{c.DB, c.Name}
			ns := byNS[k]
			if ns == nil {
				ns = &namespace{db: c.DB, coll: c.Name}
				byNS[k] = ns
				nss = append(nss, ns)
			}
			ns.units = append(ns.units, u)
		}
	}
	sort.SliceStable(nss, func(i, j int) bool {
		if nss[i].db != nss[j].db {
			return nss[i].db < nss[j].db
		}
		return nss[i].coll < nss[j].coll
	})
	return units, nss
}

// export does the work of one job under its lease.
func (e *Engine) export(ctx context.Context, job *atlas.ExportJob) error {
	phases := startPhases()
	project, ok := e.Catalog.Project(job.GroupID)
	if !ok {
		return failWith(atlas.CodeGroupNotFound, "project %s is no longer configured", job.GroupID)
	}
	org, _ := e.Catalog.Organization(project.OrgID)
	cluster, ok := e.Catalog.Cluster(job.GroupID, job.ClusterName)
	if !ok {
		return failWith(atlas.CodeClusterNotFound, "cluster %s is no longer configured in project %s", job.ClusterName, job.GroupID)
	}
	snapRow, err := e.Store.GetSnapshot(ctx, job.GroupID, job.ClusterName, job.SnapshotID)
	if errors.Is(err, store.ErrNotFound) {
		return failWith(atlas.CodeSnapshotNotFound, "snapshot %s was deleted before the export finished", job.SnapshotID)
	}
	if err != nil {
		return err
	}
	snap, err := snapshot.Open(ctx, e.Snapshots, job.SnapshotID)
	if errors.Is(err, fs.ErrNotExist) {
		return failWith(atlas.CodeSnapshotNotFound, "the data of snapshot %s is missing from snapshot storage", job.SnapshotID)
	}
	if err != nil {
		return fmt.Errorf("open snapshot %s: %w", job.SnapshotID, err)
	}
	bucketRow, err := e.Store.GetBucket(ctx, job.GroupID, job.ExportBucketID)
	if errors.Is(err, store.ErrNotFound) {
		return failWith(atlas.CodeExportBucketNotFound, "export bucket %s no longer exists", job.ExportBucketID)
	}
	if err != nil {
		return err
	}
	dest, err := e.Destinations.Open(ctx, bucketRow)
	if err != nil {
		return failWith(atlas.CodeExportBucketAccessDenied, "cannot open %s bucket %s: %v", bucketRow.CloudProvider, bucketRow.BucketName, err)
	}
	defer dest.Close()
	if err := dest.WriteAll(ctx, atlas.PermissionCheckKey, nil, nil); err != nil {
		return fmt.Errorf("permission check on %s bucket %s with access role %s: %w", bucketRow.CloudProvider, bucketRow.BucketName, bucketRow.RoleID, err)
	}
	var rec *manifest.Recorder
	if job.Options != nil && job.Options.Manifest {
		rec = manifest.NewRecorder(dest)
		dest = rec
	}

	units, nss := plan(snap.Manifest)
	all := len(nss)
	units, nss = selectNamespaces(units, nss, job.Options)
	if len(nss) == 0 && all > 0 {
		// An export of nothing from a snapshot holding data is a
		// mistyped pattern far more often than a wish: a Successful job
		// with 0/0 collections would pass for a backup.
		return failWith(atlas.CodeExportFailed, "snapexOptions.nsInclude %q and nsExclude %q select none of the %d namespaces of snapshot %s; nothing was exported",
			job.Options.NSInclude, job.Options.NSExclude, all, job.SnapshotID)
	}
	progress, err := e.Store.ExportProgress(ctx, job.ID)
	if err != nil {
		return err
	}
	t := &tracker{e: e, job: job, nss: nss, progress: maps.Clone(progress)}
	if err := t.publish(ctx, true); err != nil {
		return err
	}
	stopTicker := t.tick(ctx)
	defer stopTicker()
	comp := newCompressor(e.GzipLevel, 0)
	defer comp.close()
	smalls := newSmallLimiter(comp)
	dest = timedBucket{Bucket: dest, l: smalls}
	log := newProgressLog(ctx, e, dest, job.ID, t.recorded)
	defer log.wait()
	// Large collections share the CPU through the compressor, so few run
	// at once (each holds blocks and upload parts in memory); small ones
	// are dominated by per-object latency (open, upload, record), so many
	// overlap, each holding at most one small block: as many as the
	// store's latency asks for, within a byte budget (inflight.go).
	large := newLargeSlots(e.Parallelism)
	phases.end("setup")
	g, gctx := newWorkerGroup(ctx)
	for _, u := range units {
		if progress[u.key].Done {
			continue
		}
		start := progress[u.key]
		if size := u.coll.BSONBytes; size < blockBytes {
			if smalls.acquire(gctx, size) != nil {
				break
			}
			g.Go(func() error {
				defer smalls.release(size)
				return e.exportUnit(gctx, comp, dest, log, snap, job, u, start, t.liveFor(u.key, start), nil)
			})
			continue
		}
		slot, err := large.acquire(gctx)
		if err != nil {
			break
		}
		g.Go(func() error {
			defer slot.release()
			return e.exportUnit(gctx, comp, dest, log, snap, job, u, start, t.liveFor(u.key, start), slot)
		})
	}
	if err := g.Wait(); err != nil {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		return err
	}
	phases.end("data")
	// Every data file is written: the metadata.json files may follow
	// while the last batch is made durable and recorded (its recording
	// publishes the final exportStatus), so the two overlap instead of
	// waiting for each other; the Sync below covers both.
	var files int
	last, lctx := errgroup.WithContext(ctx)
	last.Go(func() error { return log.flush(lctx) })
	last.Go(func() (err error) {
		files, err = e.writeMetadata(lctx, dest, snap, job.Prefix, nss, smalls.current())
		return err
	})
	if err := last.Wait(); err != nil {
		return err
	}
	e.log().Info("small collections in flight", "job", job.ID, "highest", smalls.highest(), "shortestWrite", time.Duration(smalls.latency.Load()), "meanWrite", time.Duration(smalls.mean.Load()), "meanEncode", comp.meanBusy())
	// .complete promises everything before it: make the metadata durable
	// first, and .complete itself before the job reads Successful.
	if err := dest.Sync(ctx); err != nil {
		return fmt.Errorf("make metadata.json files durable: %w", err)
	}
	phases.end("metadata")
	final := t.snapshotProgress()
	for _, p := range final {
		files += p.NextChunk
	}
	ext, err := e.finishExtensions(ctx, dest, rec, snap, snapRow, job, units, nss, final)
	if err != nil {
		return err
	}
	complete, err := completeJSON(org, project, cluster, snapRow.CreatedAt, job, files, ext)
	if err != nil {
		return err
	}
	if err := dest.WriteAll(ctx, completeKey(job.Prefix), complete, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write %s: %w", completeKey(job.Prefix), err)
	}
	if err := dest.Sync(ctx); err != nil {
		return fmt.Errorf("make %s durable: %w", completeKey(job.Prefix), err)
	}
	phases.end("finish")
	e.log().Info("export phases", phases.logAttrs(job.ID)...)
	return nil
}

// writeMetadata uploads each collection's metadata.json, taken from the
// first replica set holding the collection, inFlight at a time (small
// objects, so as many as the store's latency asks for); it returns how
// many it wrote.
func (e *Engine) writeMetadata(ctx context.Context, dest blob.Bucket, snap *snapshot.Snapshot, prefix string, nss []*namespace, inFlight int) (int, error) {
	// A fixed set of goroutines taking the next namespace, not one each:
	// see workerGroup on why goroutines are kept.
	g, gctx := errgroup.WithContext(ctx)
	var next atomic.Int64
	for range min(max(1, inFlight), len(nss)) {
		g.Go(func() error {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(nss) || gctx.Err() != nil {
					return nil
				}
				if err := e.writeOneMetadata(gctx, dest, snap, prefix, nss[i]); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return len(nss), nil
}

// writeOneMetadata uploads the metadata.json of one namespace.
func (e *Engine) writeOneMetadata(ctx context.Context, dest blob.Bucket, snap *snapshot.Snapshot, prefix string, ns *namespace) error {
	md, err := snap.ReadMetadata(ctx, ns.units[0].key.ReplicaSet, ns.db, ns.coll)
	if err != nil {
		return fmt.Errorf("metadata of %s.%s: %w", ns.db, ns.coll, err)
	}
	body, err := metadataJSON(md, ns.coll)
	if err != nil {
		return err
	}
	if err := dest.WriteAll(ctx, metadataKey(prefix, ns.db, ns.coll), body, &blob.WriterOptions{ContentType: "application/json"}); err != nil {
		return fmt.Errorf("write metadata.json of %s.%s: %w", ns.db, ns.coll, err)
	}
	return nil
}

// tracker keeps exportStatus and the progress extension current as
// progress is recorded, and between records from what the running units
// have read.
type tracker struct {
	e        *Engine
	job      *atlas.ExportJob
	nss      []*namespace
	mu       sync.Mutex
	progress map[atlas.ProgressKey]atlas.Progress
	live     map[atlas.ProgressKey]*liveUnit
	// publishing serialises publications, so a slower one never
	// overwrites a newer one.
	publishing sync.Mutex
}

// liveUnit counts what one running unit has handed to compression in
// this attempt, from where it resumed: ahead of its durable record by at
// most the chunk in progress. A nil liveUnit counts nothing.
type liveUnit struct {
	docs, bytes atomic.Int64
}

func (l *liveUnit) add(docs, bytes int64) {
	if l == nil {
		return
	}
	l.docs.Add(docs)
	l.bytes.Add(bytes)
}

// liveFor starts counting unit key from its durable progress start.
func (t *tracker) liveFor(key atlas.ProgressKey, start atlas.Progress) *liveUnit {
	l := &liveUnit{}
	l.docs.Store(start.DocsDone)
	l.bytes.Store(start.BytesDone)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.live == nil {
		t.live = map[atlas.ProgressKey]*liveUnit{}
	}
	t.live[key] = l
	return l
}

// livePublishEvery is how often a running job publishes its progress
// between records: a 64 MiB data file takes seconds to write.
const livePublishEvery = time.Second

// tick publishes progress every livePublishEvery until the returned stop
// is called; a failed publication is left to the next one (the records
// themselves are what the job depends on).
func (t *tracker) tick(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(livePublishEvery)
		defer tk.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tk.C:
				if err := t.publish(ctx, false); err != nil && ctx.Err() == nil {
					t.e.log().Debug("export progress not published", "job", t.job.ID, "err", err)
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// recorded takes a batch the progress log has just recorded and
// publishes exportStatus: one update per batch, so a job of 10,000 small
// collections does not spend a transaction per collection on it.
func (t *tracker) recorded(ctx context.Context, batch []atlas.Progress) error {
	t.mu.Lock()
	for _, p := range batch {
		t.progress[p.ProgressKey] = p
	}
	t.mu.Unlock()
	return t.publish(ctx, false)
}

func (t *tracker) snapshotProgress() []atlas.Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]atlas.Progress, 0, len(t.progress))
	for _, p := range t.progress {
		out = append(out, p)
	}
	return out
}

// publish writes exportStatus (and InProgress on the first call).
func (t *tracker) publish(ctx context.Context, start bool) error {
	t.mu.Lock()
	done := 0
	var p atlas.JobProgress
	byRS := map[string]*atlas.ReplicaSetProgress{}
	var order []string
	for _, ns := range t.nss {
		all := true
		for _, u := range ns.units {
			up := t.progress[u.key]
			all = all && up.Done
			docs, bytes := up.DocsDone, up.BytesDone
			if l := t.live[u.key]; l != nil {
				docs, bytes = max(docs, l.docs.Load()), max(bytes, l.bytes.Load())
			}
			p.Documents += docs
			p.Bytes += bytes
			p.DocumentsTotal += u.coll.DocumentCount
			p.BytesTotal += u.coll.BSONBytes
			rs := byRS[u.key.ReplicaSet]
			if rs == nil {
				rs = &atlas.ReplicaSetProgress{ReplicaSet: u.key.ReplicaSet}
				byRS[u.key.ReplicaSet] = rs
				order = append(order, u.key.ReplicaSet)
			}
			rs.Documents, rs.Bytes = rs.Documents+docs, rs.Bytes+bytes
			rs.DocumentsTotal, rs.BytesTotal = rs.DocumentsTotal+u.coll.DocumentCount, rs.BytesTotal+u.coll.BSONBytes
		}
		if all {
			done++
		}
	}
	t.mu.Unlock()
	if len(order) > 1 {
		sort.Strings(order)
		for _, name := range order {
			p.ReplicaSets = append(p.ReplicaSets, *byRS[name])
		}
	}
	p.UpdatedAt = t.e.Runner.Clock().UTC()
	t.publishing.Lock()
	defer t.publishing.Unlock()
	var before atlas.JobProgress
	_, err := t.e.Store.UpdateExportJobAs(ctx, t.job.ID, t.e.Runner.Owner, func(j *atlas.ExportJob) error {
		if start && j.State == atlas.ExportQueued {
			j.State = atlas.ExportInProgress
		}
		before = j.Progress
		// A retried attempt re-reads its unrecorded chunk: never show less
		// than was shown.
		p.Documents, p.Bytes = max(p.Documents, before.Documents), max(p.Bytes, before.Bytes)
		for i := range p.ReplicaSets {
			for _, b := range before.ReplicaSets {
				if b.ReplicaSet == p.ReplicaSets[i].ReplicaSet {
					p.ReplicaSets[i].Documents = max(p.ReplicaSets[i].Documents, b.Documents)
					p.ReplicaSets[i].Bytes = max(p.ReplicaSets[i].Bytes, b.Bytes)
				}
			}
		}
		j.TotalCollections, j.ExportedCollections = len(t.nss), done
		j.Progress = p
		return nil
	})
	if err == nil && t.e.Moved != nil {
		// Only what this publication adds; a resumed attempt starts from
		// what its predecessor recorded.
		t.e.Moved(max(p.Documents-before.Documents, 0), max(p.Bytes-before.Bytes, 0))
	}
	return err
}
