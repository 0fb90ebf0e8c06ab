package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/cli"
	"github.com/snapex/snapex/internal/restore"
	"github.com/spf13/cobra"
)

// restoreMemoryLimitMiB is the restore command's soft memory limit.
const restoreMemoryLimitMiB = 192

// restoreFlags are the restore command's settings besides the engine's
// own options.
type restoreFlags struct {
	uri, dups, indexes, stateDB string
	source                      sourceFlags
	batchMiB                    int
	verbose                     bool
}

// restoreCommand is "snapex restore --uri URI SOURCE": load an export in
// Atlas's layout into the MongoDB deployment at --uri.
func restoreCommand() *cobra.Command {
	var f restoreFlags
	var o restore.Options
	cmd := &cobra.Command{
		Use:   "restore --uri MONGODB_URI <SOURCE>",
		Short: "Load an export in Atlas's layout (a bucket URL or a directory) into MongoDB; run it again to resume",
		Long: `SOURCE is the export's prefix, the one that holds .complete:
  s3://bucket/exported_snapshots/ORG/PROJECT/CLUSTER/DATE/TIME?region=R[&endpoint=E&usePathStyle=true]
  azure://container/PREFIX?account=NAME (or ?serviceUrl=URL)
  gs://bucket/PREFIX[?endpoint=E]
  file:///directory, or a plain path
Credentials come from an access role of a snapex config (--config, --projectId,
--roleId) or else from the store's default chain (AWS_* variables, AZURE_*,
GOOGLE_APPLICATION_CREDENTIALS). Run the same command again after an
interruption: it continues where it stopped.`,
		Args: cli.Positional,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), args[0], f, o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.uri, "uri", "", "MongoDB connection string of the target deployment (required)")
	fl.StringArrayVar(&o.Namespaces.Include, "nsInclude", nil, "restore only namespaces matching this pattern (repeatable; * is a wildcard)")
	fl.StringArrayVar(&o.Namespaces.Exclude, "nsExclude", nil, "skip namespaces matching this pattern (repeatable)")
	fl.StringArrayVar(&o.Namespaces.From, "nsFrom", nil, "rename namespaces matching this pattern, with $var$ variables (repeatable, paired with --nsTo)")
	fl.StringArrayVar(&o.Namespaces.To, "nsTo", nil, "the new name for the --nsFrom of the same position")
	fl.BoolVar(&o.Drop, "drop", false, "drop each target collection before restoring into it")
	fl.StringVar(&f.dups, "duplicates", "fail", "what to do with an _id already in the target: fail, skip or upsert")
	fl.StringVar(&f.indexes, "indexes", "after", "when to build indexes: after the data, before it, or none")
	fl.BoolVar(&o.AllowIncomplete, "allow-incomplete", false, "restore an export without .complete or with missing files, reporting what is missing")
	fl.IntVar(&o.Parallelism, "parallel", 4, "data files loaded at once")
	fl.IntVar(&o.BatchDocs, "batch-docs", 1000, "documents per bulk insert (a resumed restore keeps its first value)")
	fl.IntVar(&f.batchMiB, "batch-mib", 4, "MiB of BSON per bulk insert at most (a resumed restore keeps its first value)")
	fl.StringVar(&f.stateDB, "state-db", restore.DefaultStateDB, "database of the target that records progress")
	fl.BoolVar(&o.Restart, "restart", false, "forget this restore's recorded progress and start over")
	fl.BoolVar(&o.ExactCount, "exact-count", false, "check every collection by counting all its documents, not only where the count the server records differs from the export's")
	f.source.addFlags(cmd)
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log every collection and batch")
	_ = cmd.MarkFlagRequired("uri")
	return cmd
}

func runRestore(ctx context.Context, src string, f restoreFlags, o restore.Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	o.Duplicates = restore.DuplicatePolicy(f.dups)
	o.Indexes = restore.IndexTiming(f.indexes)
	o.BatchBytes = f.batchMiB << 20

	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit keeps the collector from letting garbage pile up
		// to twice the live heap; the live heap is bounded by the batches
		// in flight (--parallel × 3 × --batch-mib, plus one wire message
		// per file).
		debug.SetMemoryLimit(restoreMemoryLimitMiB << 20)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	bucket, prefix, err := f.source.open(ctx, src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer bucket.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(f.uri).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	level := slog.LevelInfo
	if f.verbose {
		level = slog.LevelDebug
	}
	eng := &restore.Engine{
		Source: bucket, Prefix: prefix, SourceName: src, Client: client,
		Progress: restore.NewMongoProgress(client, f.stateDB), Options: o,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	start := time.Now()
	rep, err := eng.Run(ctx)
	if rep != nil {
		_ = rep.Write(os.Stdout)
		fmt.Printf("restore %s: %d namespaces in %s\n", rep.Run, len(rep.Namespaces), time.Since(start).Round(time.Millisecond))
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}
