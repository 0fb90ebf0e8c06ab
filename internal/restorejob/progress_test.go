package restorejob

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/store"
)

func TestStoreProgressRoundTripAndFence(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "snapex.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	job := &atlas.RestoreJob{ID: "6e0000000000000000000001", GroupID: "5f0000000000000000000001", ClusterName: "Cluster0",
		ExportJobID: "6d0000000000000000000001", TargetClusterName: "Cluster1", State: atlas.ExportQueued, CreatedAt: time.Now()}
	if err := st.CreateRestoreJob(ctx, job, nil); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := st.AcquireLease(ctx, store.RestoreJobs, job.ID, "w1", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	p := &storeProgress{st: st, job: job.ID, owner: "w1"}
	started := time.Date(2026, 12, 5, 1, 2, 3, 0, time.UTC)
	run := restore.RunRecord{Source: "export job x", BatchDocs: 1000, BatchBytes: 4 << 20, Started: started, Status: restore.RunRunning}
	ns := restore.NamespaceRecord{Source: "shop.orders", Target: "copy.orders", Phase: restore.PhaseCreated, PreCount: 3}
	file := restore.FileRecord{Key: "p/shop/orders/rs0.0.json.gz", Namespace: "shop.orders", Docs: 2000, Duplicates: 1}
	for _, err := range []error{p.SaveRun(ctx, "r1", run), p.SaveNamespace(ctx, "r1", ns), p.SaveFile(ctx, "r1", file)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := p.Load(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Run == nil || *s.Run != run || s.Namespaces["shop.orders"] != ns || s.Files[file.Key] != file {
		t.Fatalf("loaded %+v %+v %+v", s.Run, s.Namespaces, s.Files)
	}
	if other, _ := p.Load(ctx, "r2"); other.Run != nil || len(other.Files) != 0 {
		t.Fatalf("another run: %+v", other)
	}
	// A worker that lost the lease cannot record anything.
	stale := &storeProgress{st: st, job: job.ID, owner: "w0"}
	if err := stale.SaveFile(ctx, "r1", restore.FileRecord{Key: file.Key, Docs: 1}); !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("stale worker: %v", err)
	}
	if err := p.Clear(ctx, "r1"); err != nil {
		t.Fatal(err)
	}
	if s, _ := p.Load(ctx, "r1"); s.Run != nil || len(s.Namespaces)+len(s.Files) != 0 {
		t.Fatalf("after clear: %+v", s)
	}
}

func TestEngineOptionsRenamesTheDatabase(t *testing.T) {
	j := &atlas.RestoreJob{TargetDatabaseName: "copy", Options: atlas.RestoreOptions{NsInclude: []string{"shop.*"}, Drop: true, Duplicates: "upsert"}}
	o := engineOptions(j, 2)
	if o.Namespaces.From[0] != "$db$.$coll$" || o.Namespaces.To[0] != "copy.$coll$" || o.Namespaces.Include[0] != "shop.*" ||
		!o.Drop || o.Duplicates != restore.DuplicatesUpsert || o.Parallelism != 2 {
		t.Fatalf("options: %+v", o)
	}
	if _, _, err := restore.CheckNamespaceOptions(o.Namespaces); err != nil {
		t.Fatalf("the rename must compile: %v", err)
	}
}

func TestRetryable(t *testing.T) {
	for err, want := range map[error]bool{
		fmt.Errorf("read: %w", &blob.Error{Kind: blob.KindTransient, Op: "read", Err: errors.New("503")}): true,
		fmt.Errorf("open: %w", context.DeadlineExceeded):                                                  true,
		errors.New("shop.orders: 3 documents, want 4"):                                                    false,
		fmt.Errorf("read: %w", &blob.Error{Kind: blob.KindNotFound, Op: "read", Err: errors.New("404")}):  false,
	} {
		if got := retryable(err); got != want {
			t.Errorf("retryable(%v) = %v, want %v", err, got, want)
		}
	}
}
