package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/restore"
)

// restoreMemoryLimitMiB is the restore command's soft memory limit.
const restoreMemoryLimitMiB = 192

// restoreSource opens restore sources; only local directories until the
// shared store opener (s3://, azure://, gs://, access roles) is wired in.
var restoreSource restore.OpenSource = restore.OpenLocal

// listFlag collects a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// runRestore is "snapex restore [flags] SOURCE": load an export in Atlas's
// layout into the MongoDB deployment at --uri.
func runRestore(args []string) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	uri := fs.String("uri", "", "MongoDB connection string of the target deployment (required)")
	var o restore.Options
	fs.Var((*listFlag)(&o.Namespaces.Include), "nsInclude", "restore only namespaces matching this pattern (repeatable; * is a wildcard)")
	fs.Var((*listFlag)(&o.Namespaces.Exclude), "nsExclude", "skip namespaces matching this pattern (repeatable)")
	fs.Var((*listFlag)(&o.Namespaces.From), "nsFrom", "rename namespaces matching this pattern, with $var$ variables (repeatable, paired with --nsTo)")
	fs.Var((*listFlag)(&o.Namespaces.To), "nsTo", "the new name for the --nsFrom of the same position")
	fs.BoolVar(&o.Drop, "drop", false, "drop each target collection before restoring into it")
	dups := fs.String("duplicates", "fail", "what to do with an _id already in the target: fail, skip or upsert")
	idx := fs.String("indexes", "after", "when to build indexes: after the data, before it, or none")
	fs.BoolVar(&o.AllowIncomplete, "allow-incomplete", false, "restore an export without .complete or with missing files, reporting what is missing")
	fs.IntVar(&o.Parallelism, "parallel", 4, "data files loaded at once")
	fs.IntVar(&o.BatchDocs, "batch-docs", 1000, "documents per bulk insert (a resumed restore keeps its first value)")
	batchMiB := fs.Int("batch-mib", 4, "MiB of BSON per bulk insert at most (a resumed restore keeps its first value)")
	stateDB := fs.String("state-db", restore.DefaultStateDB, "database of the target that records progress")
	fs.BoolVar(&o.Restart, "restart", false, "forget this restore's recorded progress and start over")
	verbose := fs.Bool("v", false, "log every collection and batch")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: snapex restore --uri MONGODB_URI [flags] SOURCE

SOURCE is an export's directory (file:///dir or a path; the directory that holds .complete).
Run the same command again after an interruption: it continues where it stopped.

`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("restore: give exactly one SOURCE")
	}
	if *uri == "" {
		return errors.New("restore: --uri is required")
	}
	o.Duplicates = restore.DuplicatePolicy(*dups)
	o.Indexes = restore.IndexTiming(*idx)
	o.BatchBytes = *batchMiB << 20

	if os.Getenv("GOMEMLIMIT") == "" {
		// A soft limit keeps the collector from letting garbage pile up
		// to twice the live heap; the live heap is bounded by the batches
		// in flight (--parallel × 3 × --batch-mib, plus one wire message
		// per file).
		debug.SetMemoryLimit(restoreMemoryLimitMiB << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	src := fs.Arg(0)
	bucket, prefix, err := restoreSource(ctx, src)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer bucket.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(*uri).SetServerSelectionTimeout(30 * time.Second))
	if err != nil {
		return fmt.Errorf("restore: connect: %w", err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	eng := &restore.Engine{
		Source: bucket, Prefix: prefix, SourceName: src, Client: client,
		Progress: restore.NewMongoProgress(client, *stateDB), Options: o,
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
