package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"runtime"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/snapshot"
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
	if fc != nil {
		return exportFormatted(ctx, fc, dest, log, r, job, u, p, e.ChunkBytes, live)
	}
	for {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		doc, err := r.Next()
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return fmt.Errorf("read %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
		}
		if !eof {
			key := fileKey(job, u, p.NextChunk)
			var docs, bytes int64
			docs, bytes, eof, err = comp.writeChunk(ctx, dest, key, r, doc, e.ChunkBytes, u.coll.BSONBytes-p.BytesDone, 2*runtime.GOMAXPROCS(0), live, slot)
			if err != nil {
				return err
			}
			noteDocuments(dest, key, docs)
			p.NextChunk++
			p.DocsDone += docs
			p.BytesDone += bytes
		}
		p.Done = eof
		if err := log.add(ctx, p); err != nil {
			return err
		}
		if eof {
			return nil
		}
	}
}
