package taker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/config"
	"github.com/snapex/snapex/internal/jobs"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/store"
	"github.com/snapex/snapex/internal/stores"
	"github.com/snapex/snapex/internal/taker"
	"github.com/snapex/snapex/internal/testenv"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

const takerConfig = `
database: %s
organizations:
  - id: a0000000000000000000000a
    name: Org
    projects:
      - id: 100000000000000000000001
        name: Project
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: %q}]
`

// TestSnapshotProgressGrowsWhileCapturing reads a snapshot's progress
// while a long capture runs against a real server: documents, bytes and
// collections only grow, are published before the end, and end at what
// the snapshot holds.
func TestSnapshotProgressGrowsWhileCapturing(t *testing.T) {
	const docs, colls = 3000, 3
	uri := testenv.FerretDB(t)
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(2 * time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(ctx) })
	for c := range colls {
		batch := make([]any, 0, docs)
		for i := range docs {
			pad := make([]byte, 1024)
			_, _ = rand.Read(pad)
			batch = append(batch, bson.D{{Key: "_id", Value: i}, {Key: "pad", Value: hex.EncodeToString(pad)}})
		}
		if _, err := client.Database("progress").Collection(fmt.Sprintf("c%d", c)).InsertMany(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}

	dir := t.TempDir()
	cfg, err := config.Parse(filepath.Join(dir, "snapex.yaml"), []byte(fmt.Sprintf(takerConfig, filepath.Join(dir, "snapex.db"), uri)))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, cfg.Database.Value())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	snaps, err := (&stores.Opener{}).OpenSnapshotStorage(context.Background(), config.SnapshotStorage{Directory: filepath.Join(dir, "snapshots")})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	tk := &taker.Taker{Store: st, Catalog: cfg.Catalog(), Snapshots: slowStorage{snaps}, Log: log, Parallelism: 1, Uncompressed: true}
	runner := &jobs.Runner{Store: st, Owner: "taker-test", Clock: time.Now, LeaseTTL: 3 * time.Second, Log: log,
		Retry: jobs.Retry{MaxAttempts: 1, Backoff: time.Second, MaxBackoff: time.Second}}
	now := time.Now().UTC()
	sn := &atlas.Snapshot{ID: atlas.NewObjectID(now), GroupID: "100000000000000000000001", ClusterName: "Cluster0",
		Kind: atlas.ReplicaSetSnapshot, Status: atlas.SnapshotQueued, SnapshotType: "onDemand", FrequencyType: "ondemand", ReplicaSetName: "rs0"}
	if err := st.CreateQueuedSnapshot(ctx, sn, 1, now, nil); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := runner.Run(ctx, tk.Kind(), sn.ID); done <- err }()

	var seen []atlas.JobProgress
	midway := false
	for finished := false; !finished; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			finished = true
		case <-time.After(100 * time.Millisecond):
		}
		got, _, err := st.SnapshotByID(ctx, sn.ID)
		if err != nil {
			t.Fatal(err)
		}
		p := got.Progress
		if n := len(seen); n > 0 {
			prev := seen[n-1]
			if p.Documents < prev.Documents || p.Bytes < prev.Bytes || p.Collections < prev.Collections {
				t.Fatalf("progress went back: %+v after %+v", p, prev)
			}
		}
		if got.Status == atlas.SnapshotInProgress && p.Documents > 0 && p.Documents < docs*colls {
			midway = true
			if got.StorageSizeBytes != 0 || p.CollectionsTotal != colls {
				t.Fatalf("while capturing: storageSizeBytes %d, collections %d/%d", got.StorageSizeBytes, p.Collections, p.CollectionsTotal)
			}
		}
		if len(seen) == 0 || seen[len(seen)-1].Documents != p.Documents {
			seen = append(seen, p)
		}
	}
	final, _, err := st.SnapshotByID(ctx, sn.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := final.Progress
	if !midway || len(seen) < 3 {
		t.Fatalf("saw %d distinct progress values (%+v); want several while capturing", len(seen), seen)
	}
	if final.Status != atlas.SnapshotCompleted || p.Documents != docs*colls || p.DocumentsTotal != docs*colls ||
		p.Collections != colls || p.CollectionsTotal != colls || p.Bytes != p.BytesTotal || final.StorageSizeBytes == 0 {
		t.Fatalf("final snapshot %s %q: progress %+v, storageSizeBytes %d", final.Status, final.FailureReason, p, final.StorageSizeBytes)
	}
}

// slowStorage pauses before each write of snapshot data, so a capture
// lasts a few seconds.
type slowStorage struct{ snapshot.Storage }

func (s slowStorage) Create(ctx context.Context, key string) (snapshot.ObjectWriter, error) {
	w, err := s.Storage.Create(ctx, key)
	if err != nil {
		return nil, err
	}
	return slowWriter{w}, nil
}

type slowWriter struct{ snapshot.ObjectWriter }

func (w slowWriter) Write(p []byte) (int, error) {
	time.Sleep(10 * time.Millisecond)
	return w.ObjectWriter.Write(p)
}
