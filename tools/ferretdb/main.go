// Command snapex-ferretdb runs an embedded FerretDB v1 server with its SQLite
// backend. snapex tests use it as the MongoDB wire-protocol server, because no
// real mongod can be installed on the test machines.
//
// It listens on -listen-addr (port 0 picks a free port), stores its data under
// -data-dir, and prints one line "FERRETDB_READY <mongodb URI>" to stdout once
// it accepts connections. SIGINT or SIGTERM stop it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// readyPrefix starts the line printed once the server accepts connections.
const readyPrefix = "FERRETDB_READY"

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP `address` to listen on; port 0 picks a free port")
	dataDir := flag.String("data-dir", "", "`directory` for the SQLite databases (created if missing)")
	logLevel := flag.String("log-level", "warn", "log `level`: debug, info, warn or error")
	flag.Parse()

	if err := run(*listen, *dataDir, *logLevel); err != nil {
		fmt.Fprintln(os.Stderr, "snapex-ferretdb:", err)
		os.Exit(1)
	}
}

// run starts FerretDB and serves until a termination signal arrives.
func run(listen, dataDir, logLevel string) error {
	if dataDir == "" {
		return errors.New("-data-dir is required")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(logLevel)); err != nil {
		return fmt.Errorf("parse -log-level: %w", err)
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return fmt.Errorf("resolve data dir: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: listen},
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		Handler:   "sqlite",
		SQLiteURL: "file:" + abs + "/",
	})
	if err != nil {
		return fmt.Errorf("create ferretdb: %w", err)
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// MongoDBURI waits until the listener is bound.
	fmt.Printf("%s %s\n", readyPrefix, f.MongoDBURI())

	if err := <-done; err != nil {
		return fmt.Errorf("run ferretdb: %w", err)
	}
	return nil
}
