package capture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"

	"github.com/snapex/snapex/internal/snapshot"
)

// Defaults used when the corresponding Options field is zero.
const (
	// DefaultParallelism is the number of collections read at once.
	DefaultParallelism = 2
	// DefaultConnectTimeout bounds opening one connection (TCP, TLS and
	// the MongoDB handshake).
	DefaultConnectTimeout = 10 * time.Second
	// DefaultServerSelectionTimeout bounds finding a usable server of a
	// replica set before each operation.
	DefaultServerSelectionTimeout = 30 * time.Second
	// DefaultOperationTimeout bounds one round trip to the server: a
	// command, or one getMore fetching the next batch of a collection.
	DefaultOperationTimeout = 5 * time.Minute
)

// cleanupTimeout bounds removing a failed snapshot and closing cursors and
// connections after the capture's context has ended.
const cleanupTimeout = time.Minute

// Source is one replica set (or standalone server) to read.
type Source struct {
	// Name is the replica set's name in the snapshot, which names its tree.
	// When empty, the server's replica set name (hello's setName) is used;
	// a server that is not a replica set member then fails the capture.
	Name string
	// URI is the connection string (mongodb:// or mongodb+srv://). It may
	// hold credentials: it is never logged, and errors name the replica
	// set and its hosts instead.
	URI string
	// ConfigServer marks the config server replica set of a sharded
	// cluster: its "config" database (the cluster's sharding metadata) is
	// captured, which is skipped everywhere else.
	ConfigServer bool
}

// Options configures Take.
type Options struct {
	// SnapshotID names the snapshot in Storage (snapshot.ValidateSnapshotID).
	SnapshotID string
	// ClusterName is recorded in the manifest.
	ClusterName string
	// CreatedAt is recorded in the manifest; the current time when zero.
	CreatedAt time.Time
	// Type is snapshot.ClusterReplicaSet (exactly one source) or
	// snapshot.ClusterShardedCluster (every shard replica set and the config
	// server). When empty, a single source means a replica set; several
	// sources need an explicit type.
	Type snapshot.ClusterType
	// ReplicaSets are the deployments to read, each into its own tree.
	ReplicaSets []Source
	// Storage receives the snapshot.
	Storage snapshot.Storage
	// Parallelism is the number of collections read at once, over all
	// replica sets together (DefaultParallelism when zero).
	Parallelism int
	// ConnectTimeout bounds opening a connection (DefaultConnectTimeout
	// when zero). It overrides connectTimeoutMS of the URI.
	ConnectTimeout time.Duration
	// ServerSelectionTimeout bounds the wait for a reachable server before
	// each operation (DefaultServerSelectionTimeout when zero); an
	// unreachable deployment fails the capture after about this long. It
	// overrides serverSelectionTimeoutMS of the URI.
	ServerSelectionTimeout time.Duration
	// OperationTimeout bounds each command and each fetch of a batch of
	// documents (DefaultOperationTimeout when zero), so a server that stops
	// answering fails the capture instead of stalling it.
	OperationTimeout time.Duration
	// BatchSize is the number of documents asked for per batch; zero lets
	// the server decide (101 documents first, then up to 16 MiB per batch).
	BatchSize int32
	// GzipLevel is the gzip level of the stored files (see
	// snapshot.WithGzipLevel); zero selects snapshot.DefaultGzipLevel.
	GzipLevel int
	// Uncompressed stores data files as plain .bson (more disk, cheaper
	// exports); it overrides GzipLevel.
	Uncompressed bool
	// Logger receives progress and warnings; nil discards them.
	Logger *slog.Logger
	// Progress, when set, counts what is read as it is read.
	Progress *Progress
}

// Take reads every user database and collection of the deployments in
// opts into a new snapshot and returns its manifest. See the package
// documentation for what is read and which consistency is obtained.
//
// On any error, and when ctx is cancelled, the partly written snapshot is
// removed (no manifest is ever written) and the error is returned.
func Take(ctx context.Context, opts Options) (*snapshot.Manifest, error) {
	if err := opts.normalize(); err != nil {
		return nil, err
	}
	log := opts.Logger
	began := time.Now()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Connect to and inspect every replica set before touching storage, so
	// an unreachable deployment fails fast and leaves nothing behind.
	sets := make([]*replicaSet, len(opts.ReplicaSets))
	defer func() {
		cctx, ccancel := cleanupContext(ctx)
		defer ccancel()
		for _, rs := range sets {
			if rs != nil {
				rs.disconnect(cctx)
			}
		}
	}()
	err := runAll(ctx, cancel, len(opts.ReplicaSets), func(ctx context.Context, i int) error {
		rs, err := connect(ctx, opts.ReplicaSets[i], &opts)
		if err != nil {
			return err
		}
		sets[i] = rs
		return nil
	})
	if err != nil {
		return nil, takeError(parent, opts.SnapshotID, err)
	}
	if err := checkNames(sets); err != nil {
		return nil, fmt.Errorf("capture %s: %w", opts.SnapshotID, err)
	}

	at := commonClusterTime(sets)
	for _, rs := range sets {
		rs.start(at)
	}
	version := clusterVersion(sets, log)

	w, err := snapshot.NewWriter(ctx, opts.Storage, snapshot.Manifest{
		ID:            opts.SnapshotID,
		ClusterName:   opts.ClusterName,
		CreatedAt:     opts.CreatedAt,
		Type:          opts.Type,
		MongodVersion: version,
	}, snapshot.WithGzipLevel(storedLevel(opts)))
	if err != nil {
		return nil, fmt.Errorf("capture %s: %w", opts.SnapshotID, err)
	}
	fail := func(err error) (*snapshot.Manifest, error) {
		cctx, ccancel := cleanupContext(ctx)
		defer ccancel()
		if aerr := w.Abort(cctx); aerr != nil {
			log.Error("capture: removing the incomplete snapshot failed", "snapshot", opts.SnapshotID, "error", aerr)
		}
		return nil, takeError(parent, opts.SnapshotID, err)
	}

	sem := make(chan struct{}, opts.Parallelism)
	results := make([]rsResult, len(sets))
	err = runAll(ctx, cancel, len(sets), func(ctx context.Context, i int) error {
		if err := w.AddReplicaSet(sets[i].name); err != nil {
			return err
		}
		res, err := sets[i].capture(ctx, w, sem)
		results[i] = res
		return err
	})
	if err != nil {
		return fail(err)
	}
	cons := combine(results)
	w.SetConsistency(cons)
	m, err := w.Finish(ctx)
	if err != nil {
		return fail(err)
	}
	log.Info("capture: snapshot complete", "snapshot", m.ID, "guarantee", string(cons.Guarantee),
		"documents", m.TotalDocuments(), "bsonBytes", m.TotalBSONBytes(), "took", time.Since(began).Round(time.Millisecond))
	return m, nil
}

// normalize validates opts and fills in defaults.
func (o *Options) normalize() error {
	if err := snapshot.ValidateSnapshotID(o.SnapshotID); err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	if o.Storage == nil {
		return fmt.Errorf("capture %s: no storage", o.SnapshotID)
	}
	if len(o.ReplicaSets) == 0 {
		return fmt.Errorf("capture %s: no replica sets to read", o.SnapshotID)
	}
	switch o.Type {
	case "":
		if len(o.ReplicaSets) > 1 {
			return fmt.Errorf("capture %s: %d replica sets given without a cluster type", o.SnapshotID, len(o.ReplicaSets))
		}
		o.Type = snapshot.ClusterReplicaSet
	case snapshot.ClusterReplicaSet:
		if len(o.ReplicaSets) > 1 {
			return fmt.Errorf("capture %s: cluster type %s with %d replica sets", o.SnapshotID, o.Type, len(o.ReplicaSets))
		}
	case snapshot.ClusterShardedCluster:
	default:
		return fmt.Errorf("capture %s: unknown cluster type %q", o.SnapshotID, o.Type)
	}
	named := map[string]bool{}
	for i, s := range o.ReplicaSets {
		if s.Name != "" {
			if named[s.Name] {
				return fmt.Errorf("capture %s: replica set %q given twice", o.SnapshotID, s.Name)
			}
			named[s.Name] = true
		}
		if s.URI == "" {
			return fmt.Errorf("capture %s: replica set %d (%q) has no URI", o.SnapshotID, i, s.Name)
		}
		if s.Name != "" {
			if err := snapshot.ValidateReplicaSetName(s.Name); err != nil {
				return fmt.Errorf("capture %s: %w", o.SnapshotID, err)
			}
		}
	}
	if o.Parallelism < 0 || o.ConnectTimeout < 0 || o.ServerSelectionTimeout < 0 || o.OperationTimeout < 0 || o.BatchSize < 0 {
		return fmt.Errorf("capture %s: negative parallelism, timeout or batch size", o.SnapshotID)
	}
	if o.GzipLevel < gzip.HuffmanOnly || o.GzipLevel > gzip.BestCompression {
		return fmt.Errorf("capture %s: gzip level %d out of range [%d, %d]", o.SnapshotID, o.GzipLevel, gzip.HuffmanOnly, gzip.BestCompression)
	}
	if o.Parallelism == 0 {
		o.Parallelism = DefaultParallelism
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.ServerSelectionTimeout == 0 {
		o.ServerSelectionTimeout = DefaultServerSelectionTimeout
	}
	if o.OperationTimeout == 0 {
		o.OperationTimeout = DefaultOperationTimeout
	}
	if o.GzipLevel == 0 {
		o.GzipLevel = snapshot.DefaultGzipLevel
	}
	if o.CreatedAt.IsZero() {
		o.CreatedAt = time.Now().UTC()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// checkNames makes sure every replica set has a distinct name.
func checkNames(sets []*replicaSet) error {
	seen := map[string]bool{}
	for _, rs := range sets {
		if seen[rs.name] {
			return fmt.Errorf("replica set %q given twice", rs.name)
		}
		seen[rs.name] = true
	}
	return nil
}

// clusterVersion returns the mongod version recorded in the manifest: that
// of the first shard (or the only replica set); differing versions are
// logged.
func clusterVersion(sets []*replicaSet, log *slog.Logger) string {
	version := ""
	for _, rs := range sets {
		if !rs.src.ConfigServer {
			version = rs.version
			break
		}
	}
	if version == "" {
		version = sets[0].version
	}
	for _, rs := range sets {
		if rs.version != version {
			log.Warn("capture: replica sets run different versions", "replicaSet", rs.name, "version", rs.version, "recorded", version)
		}
	}
	return version
}

// takeError prefers the context's error when the capture was cancelled, so
// callers can tell cancellation from failure with errors.Is.
func takeError(ctx context.Context, id string, err error) error {
	if cerr := context.Cause(ctx); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("capture %s: %w (%v)", id, cerr, err)
	}
	return fmt.Errorf("capture %s: %w", id, err)
}

// cleanupContext returns a context for clean-up work that outlives ctx's
// cancellation but not forever.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}

// runAll runs fn(ctx, i) for i in [0, n) concurrently and returns the first
// error; the first error cancels ctx (through cancel) so the others stop.
func runAll(ctx context.Context, cancel context.CancelFunc, n int, fn func(context.Context, int) error) error {
	var g errgroup.Group
	for i := range n {
		g.Go(func() error {
			err := fn(ctx, i)
			if err != nil {
				cancel()
			}
			return err
		})
	}
	return g.Wait()
}

// storedLevel is the snapshot writer's level: 0 means uncompressed files.
func storedLevel(o Options) int {
	if o.Uncompressed {
		return 0
	}
	return o.GzipLevel
}
