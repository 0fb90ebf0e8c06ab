package restore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"golang.org/x/sync/errgroup"

	"github.com/snapex/snapex/internal/blob"
)

// IndexTiming says when indexes are built.
type IndexTiming string

// Index timings.
const (
	// IndexesAfter builds each collection's indexes once its data is in
	// (one pass over the data per index build, the fastest).
	IndexesAfter IndexTiming = "after"
	// IndexesBefore builds them right after creating the collection.
	IndexesBefore IndexTiming = "before"
	// IndexesNone builds none but _id's.
	IndexesNone IndexTiming = "none"
)

// Options tune a restore.
type Options struct {
	// Namespaces selects and renames namespaces (mongorestore's syntax).
	Namespaces NamespaceOptions
	// Drop drops each target collection before restoring into it (once:
	// a resumed run does not drop again).
	Drop bool
	// Duplicates is the policy for _ids already in the target (default
	// DuplicatesFail).
	Duplicates DuplicatePolicy
	// Indexes is when indexes are built (default IndexesAfter).
	Indexes IndexTiming
	// AllowIncomplete restores an export with problems (no .complete,
	// missing files); what is missing is reported.
	AllowIncomplete bool
	// Parallelism is how many data files are loaded at once (default 4);
	// memory is bounded by about three batches per file in flight.
	Parallelism int
	// BatchDocs and BatchBytes bound one bulk insert (default 1000
	// documents, 4 MiB of BSON). A resumed run keeps the values it was
	// started with.
	BatchDocs  int
	BatchBytes int
	// Restart forgets the recorded progress of this restore and starts
	// over.
	Restart bool
	// ExactCount makes the final check count every document of every
	// target collection instead of reading the count the server records
	// (which is confirmed by an exact count whenever it differs from the
	// expected figure; see countDocuments).
	ExactCount bool
}

func (o *Options) normalize() error {
	switch o.Duplicates {
	case "":
		o.Duplicates = DuplicatesFail
	case DuplicatesFail, DuplicatesSkip, DuplicatesUpsert:
	default:
		return fmt.Errorf("duplicate policy %q: want fail, skip or upsert", o.Duplicates)
	}
	switch o.Indexes {
	case "":
		o.Indexes = IndexesAfter
	case IndexesAfter, IndexesBefore, IndexesNone:
	default:
		return fmt.Errorf("index timing %q: want after, before or none", o.Indexes)
	}
	if o.Parallelism <= 0 {
		o.Parallelism = 4
	}
	if o.BatchDocs <= 0 {
		o.BatchDocs = 1000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 4 << 20
	}
	return nil
}

// Engine restores one export. It can run as a CLI command or as a job:
// Run stops at the next batch when ctx is cancelled, and every batch is
// recorded in Progress so that a later Run continues it.
type Engine struct {
	// Source holds the export under Prefix.
	Source blob.Bucket
	Prefix string
	// SourceName names the source for people (e.g. its URL).
	SourceName string
	// Client is connected to the target deployment.
	Client *mongo.Client
	// Progress records progress (see MongoProgress).
	Progress Progress
	Options  Options
	Log      *slog.Logger
	// AfterBatch, when set, is called after each batch is recorded
	// (tests use it to pace and interrupt restores).
	AfterBatch func(key string, docs int64)
}

func (e *Engine) log() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.Default()
}

// planned is a namespace with its target.
type planned struct {
	ns     *Namespace
	target string // "db.coll"
	tdb    string
	tcoll  string
}

// RunID is the identity of a restore: the export (its .complete, or its
// name and prefix without one) and the namespace options. The same
// restore started again finds its progress under it.
func RunID(ex *Export, sourceName string, o NamespaceOptions) string {
	h := sha256.New()
	if ex.CompleteRaw != nil {
		h.Write(ex.CompleteRaw)
	} else {
		h.Write([]byte(sourceName))
	}
	h.Write([]byte("\x00" + ex.Prefix + "\x00"))
	for _, list := range [][]string{o.Include, o.Exclude, o.From, o.To} {
		h.Write([]byte(strings.Join(list, "\x01") + "\x00"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Run restores the export. The report says, per namespace, how far it got
// and how its document count compares with the export's, also when Run
// fails; Run fails on bad input (naming the file and line), on a count
// that differs, and on any write the target refuses.
func (e *Engine) Run(ctx context.Context) (*Report, error) {
	if e.Source == nil || e.Client == nil || e.Progress == nil {
		return nil, errors.New("restore: Engine needs a Source, a Client and a Progress")
	}
	o := e.Options
	if err := o.normalize(); err != nil {
		return nil, err
	}
	ex, err := Scan(ctx, e.Source, e.Prefix, o.AllowIncomplete)
	if err != nil {
		return nil, err
	}
	for _, p := range ex.Problems {
		e.log().Warn("export is incomplete", "problem", p)
	}
	plan, err := e.plan(ex, o)
	if err != nil {
		return nil, err
	}
	run := RunID(ex, e.SourceName, o.Namespaces)
	if o.Restart {
		if err := e.Progress.Clear(ctx, run); err != nil {
			return nil, err
		}
	}
	state, err := e.Progress.Load(ctx, run)
	if err != nil {
		return nil, err
	}
	resumed := state.Run != nil
	rec := RunRecord{Source: e.SourceName, BatchDocs: o.BatchDocs, BatchBytes: o.BatchBytes, Started: time.Now().UTC()}
	if resumed {
		rec = *state.Run
		rec.Error, rec.Ended = "", time.Time{}
		e.log().Info("continuing an interrupted restore", "run", run, "started", rec.Started, "batchDocs", rec.BatchDocs, "batchBytes", rec.BatchBytes)
	}
	rec.Status = RunRunning
	if err := e.Progress.SaveRun(ctx, run, rec); err != nil {
		return nil, err
	}
	r := &runner{e: e, o: o, run: run, state: state, resumed: resumed, batchDocs: rec.BatchDocs, batchBytes: rec.BatchBytes,
		slots: make(chan struct{}, o.Parallelism)}
	report := &Report{Run: run, Problems: ex.Problems}

	logCtx, stopLog := context.WithCancel(ctx)
	go r.logProgress(logCtx, 10*time.Second)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(o.Parallelism)
	for _, p := range plan {
		g.Go(func() error { return r.restoreNamespace(gctx, p) })
	}
	loadErr := g.Wait()
	stopLog()
	// Record the outcome even when ctx is cancelled: the next run reads it.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var final *State
	lerr := r.retryTransient(rctx, "read the restore's progress", func(bool) (err error) {
		final, err = e.Progress.Load(rctx, run)
		return err
	})
	if lerr != nil {
		// The report then shows the phases as this run found them.
		e.log().Warn("the restore's progress could not be read back; the report shows it as of the start", "run", run, "err", lerr)
		final = r.state
	}
	report.Namespaces = summarize(plan, final)
	if loadErr != nil {
		rec.Status, rec.Error, rec.Ended = RunFailed, loadErr.Error(), time.Now().UTC()
		_ = e.Progress.SaveRun(rctx, run, rec)
		return report, loadErr
	}
	if err := r.verify(ctx, report); err != nil {
		rec.Status, rec.Error, rec.Ended = RunFailed, err.Error(), time.Now().UTC()
		_ = e.Progress.SaveRun(rctx, run, rec)
		return report, err
	}
	rec.Status, rec.Ended = RunDone, time.Now().UTC()
	if err := e.Progress.SaveRun(ctx, run, rec); err != nil {
		return report, err
	}
	return report, nil
}

// plan maps every exported namespace to its target, refusing two sources
// mapped to one target and targets in the progress store's database.
func (e *Engine) plan(ex *Export, o Options) ([]*planned, error) {
	m, err := newMapper(o.Namespaces)
	if err != nil {
		return nil, err
	}
	stateDB := ""
	if s, ok := e.Progress.(interface{ DB() string }); ok {
		stateDB = s.DB()
	}
	var out []*planned
	bySource := map[string]string{}
	for _, ns := range ex.Namespaces {
		if ns.Metadata != nil && ns.Metadata.Type == "view" {
			continue
		}
		target, ok := m.Map(ns.Name())
		if !ok {
			continue
		}
		tdb, tcoll, ok := strings.Cut(target, ".")
		if !ok || tdb == "" || tcoll == "" {
			return nil, fmt.Errorf("namespace %s maps to %q, which is not <db>.<collection>", ns.Name(), target)
		}
		if tdb == stateDB {
			return nil, fmt.Errorf("namespace %s maps to %s, in the database that holds restore progress (%s): rename it with --nsFrom/--nsTo", ns.Name(), target, stateDB)
		}
		if prev, dup := bySource[target]; dup {
			return nil, fmt.Errorf("namespaces %s and %s both map to %s", prev, ns.Name(), target)
		}
		bySource[target] = ns.Name()
		out = append(out, &planned{ns: ns, target: target, tdb: tdb, tcoll: tcoll})
	}
	if len(out) == 0 {
		return nil, errors.New("no namespace of the export is selected")
	}
	return out, nil
}
