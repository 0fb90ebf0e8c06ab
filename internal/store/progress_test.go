package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/store"
)

// TestExportProgressBatchesAreFencedAndLastWins saves progress of many
// units in one call (more than one statement's worth), overwrites some,
// and checks that a worker without the lease changes nothing.
func TestExportProgressBatchesAreFencedAndLastWins(t *testing.T) {
	forEachEngine(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		b := bucket(1, atlas.AWS)
		sn := completedSnapshot("6c0000000000000000000001")
		j := job("6d0000000000000000000001", sn.ID, b.ID)
		for _, err := range []error{s.CreateBucket(ctx, b), s.CreateSnapshot(ctx, sn), s.CreateExportJob(ctx, j, nil)} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if l, err := s.AcquireLease(ctx, store.ExportJobs, j.ID, "w1", t0, t0.Add(time.Hour)); err != nil || !l.Acquired {
			t.Fatalf("acquire: %+v %v", l, err)
		}
		const units = 1234
		var batch []store.Progress
		for i := range units {
			batch = append(batch, store.Progress{
				ProgressKey: store.ProgressKey{ReplicaSet: "rs0", DB: "db", Coll: fmt.Sprintf("c%04d", i)},
				NextChunk:   1, DocsDone: int64(i), BytesDone: int64(10 * i), Done: true,
			})
		}
		// The same key twice in one batch: the later value wins.
		batch = append(batch, store.Progress{ProgressKey: batch[7].ProgressKey, NextChunk: 3, DocsDone: 99, BytesDone: 990})
		if err := s.SaveExportProgress(ctx, j.ID, "w1", batch...); err != nil {
			t.Fatal(err)
		}
		// A second batch updates existing rows.
		if err := s.SaveExportProgress(ctx, j.ID, "w1", store.Progress{ProgressKey: batch[8].ProgressKey, NextChunk: 5, DocsDone: 5, BytesDone: 50, Done: true}); err != nil {
			t.Fatal(err)
		}
		// A worker without the lease is refused and changes nothing.
		err := s.SaveExportProgress(ctx, j.ID, "w2", store.Progress{ProgressKey: batch[9].ProgressKey, NextChunk: 42})
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("save without the lease: %v, want ErrLeaseLost", err)
		}
		if err := s.SaveExportProgress(ctx, "6d00000000000000000000ff", "w1", batch[0]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("save for a missing job: %v, want ErrNotFound", err)
		}
		got, err := s.ExportProgress(ctx, j.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != units {
			t.Fatalf("%d progress rows, want %d", len(got), units)
		}
		for i, p := range batch[:units] {
			want := p
			switch i {
			case 7:
				want = batch[units]
			case 8:
				want.NextChunk, want.DocsDone, want.BytesDone = 5, 5, 50
			}
			if got[p.ProgressKey] != want {
				t.Fatalf("unit %d: %+v, want %+v", i, got[p.ProgressKey], want)
			}
		}
	})
}
