package export

import (
	"context"
	"fmt"

	"runtime"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// exportUnit streams one collection of one replica set into data files,
// resuming after the chunks p records, and queues progress after each
// chunk into log. Memory stays bounded: the blocks in flight and the upload's part
// buffers.
func (e *Engine) exportUnit(ctx context.Context, comp *compressor, dest blob.Bucket, log *progressLog, snap *snapshot.Snapshot, job *atlas.ExportJob, u *unit, p atlas.Progress, live *liveUnit, slot *largeSlot) error {
	p.ProgressKey = u.key
	if u.coll.DataFile == "" || u.coll.DocumentCount == 0 {
		p.Done = true
		return log.add(ctx, p)
	}
	fc, err := e.formatCollection(ctx, snap, job, u)
	if err != nil {
		return err
	}
	r, err := snap.OpenCollection(ctx, u.key.ReplicaSet, u.key.DB, u.key.Coll)
	if err != nil {
		return fmt.Errorf("open %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
	}
	defer r.Close()
	for i := int64(0); i < p.DocsDone; i++ {
		if _, err := r.Next(); err != nil {
			return fmt.Errorf("resume %s.%s on %s after %d documents: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, p.DocsDone, err)
		}
	}
	if fc == nil {
		fc = &ejsonFiles{c: comp, left: u.coll.BSONBytes - p.BytesDone, depth: 2 * runtime.GOMAXPROCS(0)}
	}
	return exportFiles(ctx, fc, dest, log, r, job, u, p, e.ChunkBytes, live, slot)
}

// ejsonFiles writes a collection's data files as Atlas does: gzipped
// canonical Extended JSON, one document per line, compressed by the
// engine's compressor in blocks on every core (startChunk).
type ejsonFiles struct {
	c     *compressor
	left  int64 // BSON bytes of the collection not yet in a file
	depth int   // blocks in flight per file
}

// StartFile implements format.Collection.
func (f *ejsonFiles) StartFile(ctx context.Context, dest blob.Bucket, key string, r format.Documents, first bson.Raw, limit int64, progress func(docs, bytes int64)) (int64, int64, bool, func() error, error) {
	docs, size, eof, finish, err := f.c.startChunk(ctx, dest, key, r, first, limit, f.left, f.depth, progress)
	f.left -= size
	return docs, size, eof, finish, err
}
