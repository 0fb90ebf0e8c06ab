package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/readpref"
	"golang.org/x/sync/errgroup"

	"github.com/snapex/snapex/internal/snapshot"
)

// replicaSet is one source being captured: its client, what hello and
// buildInfo said, and the consistency mode its reads are in.
type replicaSet struct {
	src       Source
	name      string // name in the snapshot
	hosts     string // seed list, for messages (never the URI)
	client    *mongo.Client
	rp        *readpref.ReadPref
	opTimeout time.Duration
	batchSize int32
	log       *slog.Logger
	progress  *Progress

	setName string          // hello's setName; "" when not a replica set member
	version string          // buildInfo's version
	opTime  *bson.Timestamp // hello's operationTime (or $clusterTime); nil when none

	mu         sync.Mutex
	pit        bool            // reads use read concern snapshot at atClusterTime
	at         bson.Timestamp  // the atClusterTime of pit reads
	oplogStart *bson.Timestamp // set in oplog mode: no read saw a state older than this
	oplogKnown bool            // hasOplog has been determined
	hasOplog   bool
}

// connect opens a client for src and inspects the server with hello and
// buildInfo. Every failure names the replica set and its hosts.
func connect(ctx context.Context, src Source, opts *Options) (*replicaSet, error) {
	label := src.Name
	if label == "" {
		label = "(unnamed)"
	}
	co := options.Client().ApplyURI(src.URI)
	if err := co.Validate(); err != nil {
		return nil, fmt.Errorf("replica set %q: connection string: %w", label, err)
	}
	co.SetConnectTimeout(opts.ConnectTimeout).SetServerSelectionTimeout(opts.ServerSelectionTimeout)
	if co.AppName == nil {
		co.SetAppName("snapex")
	}
	rs := &replicaSet{
		src:       src,
		name:      src.Name,
		hosts:     strings.Join(co.Hosts, ","),
		rp:        co.ReadPreference,
		opTimeout: opts.OperationTimeout,
		batchSize: opts.BatchSize,
		log:       opts.Logger,
		progress:  opts.Progress,
	}
	if rs.rp == nil {
		rs.rp = readpref.Primary()
	}
	fail := func(what string, err error) (*replicaSet, error) {
		if rs.client != nil {
			cctx, cancel := cleanupContext(ctx)
			defer cancel()
			rs.disconnect(cctx)
		}
		return nil, fmt.Errorf("replica set %q (%s): %s: %w", label, rs.hosts, what, err)
	}
	client, err := mongo.Connect(co)
	if err != nil {
		return fail("connect", err)
	}
	rs.client = client

	hello, err := rs.command(ctx, "admin", bson.D{{Key: "hello", Value: 1}})
	if isCode(err, codeCommandNotFound) { // servers before 4.4.2 know only isMaster
		hello, err = rs.command(ctx, "admin", bson.D{{Key: "isMaster", Value: 1}})
	}
	if err != nil {
		return fail("unreachable or refused hello", err)
	}
	if msg, _ := hello.Lookup("msg").StringValueOK(); msg == "isdbgrid" {
		return fail("check topology", errors.New("this is a mongos router; give the shards' and the config server's replica sets instead"))
	}
	rs.setName, _ = hello.Lookup("setName").StringValueOK()
	rs.opTime = helloTime(hello)

	info, err := rs.command(ctx, "admin", bson.D{{Key: "buildInfo", Value: 1}})
	if err != nil {
		return fail("buildInfo", err)
	}
	rs.version, _ = info.Lookup("version").StringValueOK()

	switch {
	case rs.name == "" && rs.setName == "":
		return fail("name", errors.New("the server is not a replica set member and no name was given"))
	case rs.name == "":
		rs.name = rs.setName
	case rs.setName != "" && rs.setName != rs.name:
		rs.log.Warn("capture: replica set name differs from the server's", "replicaSet", rs.name, "setName", rs.setName)
	}
	if err := snapshot.ValidateReplicaSetName(rs.name); err != nil {
		return fail("name", err)
	}
	rs.log.Info("capture: connected", "replicaSet", rs.name, "hosts", rs.hosts, "setName", rs.setName,
		"version", rs.version, "clusterTime", tsString(rs.opTime))
	return rs, nil
}

// helloTime returns the cluster time a hello reply carries: operationTime,
// else $clusterTime.clusterTime; nil when it has neither (standalone
// servers, FerretDB).
func helloTime(hello bson.Raw) *bson.Timestamp {
	if t, i, ok := hello.Lookup("operationTime").TimestampOK(); ok && t != 0 {
		return &bson.Timestamp{T: t, I: i}
	}
	if t, i, ok := hello.Lookup("$clusterTime", "clusterTime").TimestampOK(); ok && t != 0 {
		return &bson.Timestamp{T: t, I: i}
	}
	return nil
}

// disconnect closes the client.
func (r *replicaSet) disconnect(ctx context.Context) {
	if r.client == nil {
		return
	}
	if err := r.client.Disconnect(ctx); err != nil {
		r.log.Warn("capture: disconnect failed", "replicaSet", r.name, "error", err)
	}
	r.client = nil
}

// commonClusterTime returns the cluster time all point-in-time reads use:
// the earliest among the replica sets that reported one (in a sharded
// cluster the cluster time is one logical clock, and an earlier time is
// valid on every shard), or nil when none did.
func commonClusterTime(sets []*replicaSet) *bson.Timestamp {
	var at *bson.Timestamp
	for _, rs := range sets {
		if rs.setName == "" || rs.opTime == nil {
			continue
		}
		if at == nil || tsLess(*rs.opTime, *at) {
			t := *rs.opTime
			at = &t
		}
	}
	return at
}

// start fixes the replica set's initial mode: point in time at at when it
// is a replica set member that reported a cluster time, otherwise reads
// without a common point (bracketed by the oplog when there is one).
func (r *replicaSet) start(at *bson.Timestamp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at != nil && r.setName != "" && r.opTime != nil {
		r.pit = true
		r.at = *at
	}
}

// readMode returns whether reads are point-in-time and at which time.
func (r *replicaSet) readMode() (bool, bson.Timestamp) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pit, r.at
}

// command runs cmd on db with the replica set's read preference and the
// operation timeout and returns the reply.
func (r *replicaSet) command(ctx context.Context, db string, cmd bson.D) (bson.Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	raw, err := r.client.Database(db).RunCommand(ctx, cmd, options.RunCmd().SetReadPreference(r.rp)).Raw()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd[0].Key, err)
	}
	return raw, nil
}

// cursorAll runs a cursor-returning command and returns copies of all its
// documents. It is for small results (listings), not collection data.
func (r *replicaSet) cursorAll(ctx context.Context, db string, cmd bson.D) ([]bson.Raw, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opTimeout)
	defer cancel()
	cur, err := r.client.Database(db).RunCommandCursor(ctx, cmd, options.RunCmd().SetReadPreference(r.rp))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cmd[0].Key, err)
	}
	defer r.closeCursor(ctx, cur)
	var out []bson.Raw
	for cur.Next(ctx) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", cmd[0].Key, err)
	}
	return out, nil
}

// closeCursor closes cur, killing it on the server if it is still open,
// even when ctx has been cancelled.
func (r *replicaSet) closeCursor(ctx context.Context, cur *mongo.Cursor) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = cur.Close(cctx)
}

// capture reads every collection of the replica set into w, at most
// cap(sem) collections at a time over all replica sets, and returns the
// consistency obtained.
func (r *replicaSet) capture(ctx context.Context, w *snapshot.Writer, sem chan struct{}) (rsResult, error) {
	began := time.Now()
	if pit, _ := r.readMode(); !pit {
		if err := r.beginOplogWindow(ctx); err != nil {
			return rsResult{}, r.errorf("%w", err)
		}
	}
	tasks, err := r.list(ctx)
	if err != nil {
		return rsResult{}, r.errorf("%w", err)
	}
	r.progress.listed(len(tasks))

	// sem is shared by every replica set, so it bounds the whole capture.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
dispatch:
	for _, t := range tasks {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break dispatch
		}
		if ctx.Err() != nil { // both were ready: never start after a failure
			<-sem
			break
		}
		g.Go(func() error {
			defer func() { <-sem }()
			err := r.copy(ctx, w, t)
			if err != nil {
				cancel()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return rsResult{}, r.errorf("%w", err)
	}
	if err := ctx.Err(); err != nil {
		return rsResult{}, r.errorf("%w", err)
	}
	res, err := r.finish(ctx)
	if err != nil {
		return rsResult{}, r.errorf("%w", err)
	}
	r.log.Info("capture: replica set done", "replicaSet", r.name, "collections", len(tasks),
		"guarantee", string(res.guarantee), "took", time.Since(began).Round(time.Millisecond))
	return res, nil
}

// errorf formats an error naming the replica set and its hosts.
func (r *replicaSet) errorf(format string, args ...any) error {
	return fmt.Errorf("replica set %q (%s): %w", r.name, r.hosts, fmt.Errorf(format, args...))
}

// list returns the namespaces to capture: every collection, view and
// timeseries collection of every database except admin, local and config
// (config is kept on a config server), sorted by database and name.
func (r *replicaSet) list(ctx context.Context) ([]task, error) {
	reply, err := r.command(ctx, "admin", bson.D{{Key: "listDatabases", Value: 1}, {Key: "nameOnly", Value: true}})
	if err != nil {
		return nil, err
	}
	dbsVal, err := reply.LookupErr("databases")
	if err != nil {
		return nil, fmt.Errorf("listDatabases: reply without databases: %w", err)
	}
	arr, ok := dbsVal.ArrayOK()
	if !ok {
		return nil, fmt.Errorf("listDatabases: databases is a %s", dbsVal.Type)
	}
	vals, err := arr.Values()
	if err != nil {
		return nil, fmt.Errorf("listDatabases: %w", err)
	}
	var dbs []string
	for _, v := range vals {
		doc, ok := v.DocumentOK()
		if !ok {
			return nil, fmt.Errorf("listDatabases: entry is a %s", v.Type)
		}
		name, ok := doc.Lookup("name").StringValueOK()
		if !ok {
			return nil, fmt.Errorf("listDatabases: entry without name: %s", doc)
		}
		if skipDatabase(name, r.src.ConfigServer) {
			continue
		}
		dbs = append(dbs, name)
	}
	sort.Strings(dbs)

	var tasks []task
	for _, db := range dbs {
		infos, err := r.cursorAll(ctx, db, bson.D{{Key: "listCollections", Value: 1}})
		if err != nil {
			return nil, fmt.Errorf("database %s: %w", db, err)
		}
		names := map[string]bool{}
		for _, info := range infos {
			if n, ok := info.Lookup("name").StringValueOK(); ok {
				names[n] = true
			}
		}
		for _, info := range infos {
			t, skip, err := parseCollection(db, info, names, r.src.ConfigServer)
			if err != nil {
				return nil, fmt.Errorf("database %s: %w", db, err)
			}
			if skip != "" {
				r.log.Debug("capture: namespace skipped", "replicaSet", r.name, "db", db, "reason", skip)
				continue
			}
			tasks = append(tasks, t)
		}
	}
	sort.Slice(tasks, func(i, j int) bool {
		if tasks[i].db != tasks[j].db {
			return tasks[i].db < tasks[j].db
		}
		return tasks[i].md.CollectionName < tasks[j].md.CollectionName
	})
	return tasks, nil
}

// copy captures one namespace. When a point-in-time read is refused
// (unsupported, or the snapshot window has passed), the replica set falls
// back to oplog bracketing and the collection is read again.
func (r *replicaSet) copy(ctx context.Context, w *snapshot.Writer, t task) error {
	for {
		pit, at := r.readMode()
		var atp *bson.Timestamp
		if pit {
			atp = &at
		}
		err := r.copyOnce(ctx, w, t, atp)
		switch {
		case err == nil:
			r.progress.collectionDone()
			return nil
		case pit && ctx.Err() == nil && isSnapshotError(err):
			if ferr := r.fallBack(ctx, t, err); ferr != nil {
				return ferr
			}
		case ctx.Err() == nil && isCode(err, codeNamespaceNotFound):
			r.log.Warn("capture: collection dropped during the capture; left out", "replicaSet", r.name,
				"ns", t.db+"."+t.md.CollectionName, "error", err)
			r.progress.collectionDone()
			return nil
		default:
			return fmt.Errorf("%s.%s: %w", t.db, t.md.CollectionName, err)
		}
	}
}

// copyOnce lists the indexes of a namespace and streams its documents
// (none for a view) into a new collection of w. at is the atClusterTime
// of a point-in-time read, or nil. On error nothing is left in w.
func (r *replicaSet) copyOnce(ctx context.Context, w *snapshot.Writer, t task, at *bson.Timestamp) error {
	began := time.Now()
	md := t.md
	if md.Type != snapshot.TypeView {
		idx, err := r.cursorAll(ctx, t.db, bson.D{{Key: "listIndexes", Value: md.CollectionName}})
		if err != nil {
			return err
		}
		md.Indexes = idx
	}
	cw, err := w.CreateCollection(ctx, r.name, t.db, md)
	if err != nil {
		return err
	}
	if md.Type != snapshot.TypeView {
		if err := r.stream(ctx, cw, t, at); err != nil {
			_ = cw.Abort()
			return err
		}
	}
	if err := cw.Close(); err != nil {
		return err
	}
	r.log.Debug("capture: collection done", "replicaSet", r.name, "ns", t.db+"."+md.CollectionName,
		"type", string(md.Type), "documents", cw.Count(), "bsonBytes", cw.Size(), "took", time.Since(began).Round(time.Millisecond))
	return nil
}

// stream reads the documents of t in natural order and appends them, raw,
// to cw. Memory is bounded by one batch (at most 16 MiB) whatever the
// collection's size.
func (r *replicaSet) stream(ctx context.Context, cw *snapshot.CollectionWriter, t task, at *bson.Timestamp) error {
	cmd := bson.D{
		{Key: "find", Value: t.source},
		{Key: "filter", Value: bson.D{}},
		{Key: "hint", Value: bson.D{{Key: "$natural", Value: 1}}},
	}
	if r.batchSize > 0 {
		cmd = append(cmd, bson.E{Key: "batchSize", Value: r.batchSize})
	}
	if t.rawData {
		cmd = append(cmd, bson.E{Key: "rawData", Value: true})
	}
	if at != nil {
		cmd = append(cmd, bson.E{Key: "readConcern", Value: bson.D{
			{Key: "level", Value: "snapshot"},
			{Key: "atClusterTime", Value: *at},
		}})
	}
	opCtx, cancel := context.WithTimeout(ctx, r.opTimeout)
	cur, err := r.client.Database(t.db).RunCommandCursor(opCtx, cmd, options.RunCmd().SetReadPreference(r.rp))
	cancel()
	if err != nil {
		return fmt.Errorf("find: %w", err)
	}
	defer r.closeCursor(ctx, cur)
	for {
		// Only a call that empties the batch goes to the server; bound it.
		next := ctx
		cancel := context.CancelFunc(func() {})
		if cur.RemainingBatchLength() == 0 {
			next, cancel = context.WithTimeout(ctx, r.opTimeout)
		}
		ok := cur.Next(next)
		cancel()
		if !ok {
			break
		}
		if err := cw.Append(cur.Current); err != nil {
			return err
		}
		r.progress.document(len(cur.Current))
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("find: %w", err)
	}
	return nil
}

// fallBack leaves point-in-time mode after err refused a snapshot read.
// Collections already read at the cluster time stay valid: every read is
// at or after it, so it becomes the start of the oplog window.
func (r *replicaSet) fallBack(ctx context.Context, t task, cause error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.pit {
		return nil
	}
	has, err := r.oplogExistsLocked(ctx)
	if err != nil {
		return err
	}
	r.pit = false
	guarantee := snapshot.GuaranteeNone
	if has {
		start := r.at
		r.oplogStart = &start
		guarantee = snapshot.GuaranteeOplog
	}
	r.log.Warn("capture: point-in-time read refused; continuing without it", "replicaSet", r.name,
		"ns", t.db+"."+t.md.CollectionName, "atClusterTime", tsString(&r.at), "now", string(guarantee), "error", cause)
	return nil
}

// beginOplogWindow records the newest oplog entry before any data is read,
// as mongodump --oplog does; without an oplog nothing is recorded.
func (r *replicaSet) beginOplogWindow(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	has, err := r.oplogExistsLocked(ctx)
	if err != nil || !has {
		return err
	}
	last, err := r.oplogEdge(ctx, -1)
	if err != nil {
		return err
	}
	if last == nil {
		r.log.Warn("capture: the oplog is empty; no consistency window", "replicaSet", r.name)
		return nil
	}
	r.oplogStart = last
	return nil
}

// oplogExistsLocked reports (once, then from memory) whether
// local.oplog.rs exists. A listing the user may not run counts as no
// oplog, with a warning. r.mu must be held.
func (r *replicaSet) oplogExistsLocked(ctx context.Context) (bool, error) {
	if r.oplogKnown {
		return r.hasOplog, nil
	}
	colls, err := r.cursorAll(ctx, "local", bson.D{
		{Key: "listCollections", Value: 1},
		{Key: "filter", Value: bson.D{{Key: "name", Value: "oplog.rs"}}},
		{Key: "nameOnly", Value: true},
	})
	if err != nil {
		if ctx.Err() != nil {
			return false, err
		}
		r.log.Warn("capture: cannot look for the oplog; assuming none", "replicaSet", r.name, "error", err)
		colls = nil
	}
	r.oplogKnown = true
	r.hasOplog = len(colls) > 0
	return r.hasOplog, nil
}

// oplogEdge returns the ts of the oldest (dir 1) or newest (dir -1) oplog
// entry, or nil when the oplog is empty.
func (r *replicaSet) oplogEdge(ctx context.Context, dir int) (*bson.Timestamp, error) {
	docs, err := r.cursorAll(ctx, "local", bson.D{
		{Key: "find", Value: "oplog.rs"},
		{Key: "filter", Value: bson.D{}},
		{Key: "sort", Value: bson.D{{Key: "$natural", Value: dir}}},
		{Key: "projection", Value: bson.D{{Key: "ts", Value: 1}}},
		{Key: "limit", Value: 1},
		{Key: "singleBatch", Value: true},
	})
	if err != nil {
		return nil, fmt.Errorf("read oplog: %w", err)
	}
	if len(docs) == 0 {
		return nil, nil
	}
	t, i, ok := docs[0].Lookup("ts").TimestampOK()
	if !ok {
		return nil, fmt.Errorf("read oplog: entry without a timestamp ts: %s", docs[0])
	}
	return &bson.Timestamp{T: t, I: i}, nil
}

// finish determines what the replica set's reads guarantee once they are
// all done.
func (r *replicaSet) finish(ctx context.Context) (rsResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := rsResult{name: r.name, guarantee: snapshot.GuaranteeNone}
	if r.pit {
		res.guarantee = snapshot.GuaranteePointInTime
		res.at = r.at
	}
	if !r.pit && r.oplogStart == nil {
		return res, nil
	}
	has, err := r.oplogExistsLocked(ctx)
	if err != nil {
		return res, err
	}
	if !has {
		return res, nil
	}
	first, err := r.oplogEdge(ctx, 1)
	if err != nil {
		return res, err
	}
	last, err := r.oplogEdge(ctx, -1)
	if err != nil {
		return res, err
	}
	start := r.at
	if !r.pit {
		start = *r.oplogStart
	}
	if first == nil || last == nil || tsLess(start, *first) {
		// Entries after start are gone: the window can no longer be replayed.
		if !r.pit {
			r.log.Warn("capture: the oplog rolled over during the capture; no consistency guarantee",
				"replicaSet", r.name, "start", tsString(&start), "oldestEntry", tsString(first))
		}
		return res, nil
	}
	end := *last
	if tsLess(end, start) {
		end = start
	}
	res.oplog = true
	res.start, res.end = start, end
	if !r.pit {
		res.guarantee = snapshot.GuaranteeOplog
	}
	return res, nil
}

// skipDatabase reports whether a database is never captured: admin and
// local, and config except on a config server.
func skipDatabase(name string, configServer bool) bool {
	switch name {
	case "admin", "local":
		return true
	case "config":
		return !configServer
	}
	return false
}

// Server error codes this package reacts to.
const (
	codeBadValue                           = 2
	codeFailedToParse                      = 9
	codeNamespaceNotFound                  = 26
	codeCommandNotFound                    = 59
	codeInvalidOptions                     = 72
	codeCommandNotSupported                = 115
	codeReadConcernMajorityNotEnabled      = 148
	codeNotImplemented                     = 238
	codeSnapshotTooOld                     = 239
	codeSnapshotUnavailable                = 246
	codeOperationNotSupportedInTransaction = 263
)

// isCode reports whether err is a server error with the given code.
func isCode(err error, code int) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && se.HasErrorCode(code)
}

// isSnapshotError reports whether err means the server cannot serve a read
// at the requested cluster time: the snapshot is too old or unavailable
// (SnapshotTooOld, SnapshotUnavailable), or read concern "snapshot" outside
// a transaction is not supported (servers before 5.0, disabled majority
// read concern). Generic codes count only when the message is about the
// read concern; any other error surfaces again when the collection is
// re-read without it.
func isSnapshotError(err error) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	for _, c := range []int{codeSnapshotTooOld, codeSnapshotUnavailable, codeInvalidOptions,
		codeReadConcernMajorityNotEnabled, codeNotImplemented, codeOperationNotSupportedInTransaction} {
		if se.HasErrorCode(c) {
			return true
		}
	}
	for _, c := range []int{codeBadValue, codeFailedToParse, codeCommandNotSupported} {
		if se.HasErrorCode(c) {
			msg := strings.ToLower(se.Error())
			return strings.Contains(msg, "readconcern") || strings.Contains(msg, "read concern") ||
				strings.Contains(msg, "snapshot") || strings.Contains(msg, "atclustertime")
		}
	}
	return false
}

// tsLess orders BSON timestamps.
func tsLess(a, b bson.Timestamp) bool {
	return a.T < b.T || (a.T == b.T && a.I < b.I)
}

// tsString formats a timestamp for logs.
func tsString(t *bson.Timestamp) string {
	if t == nil {
		return "none"
	}
	return fmt.Sprintf("Timestamp(%d, %d)", t.T, t.I)
}
