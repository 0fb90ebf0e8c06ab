package export

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/snapshot"
)

// startedFile is a data file whose documents are read and which may still
// be encoding and uploading.
type startedFile struct {
	key         string
	docs, bytes int64
	eof         bool
	finish      func() error
}

// exportFiles writes a unit's data files (of limit bytes of BSON) in
// fc's format, with r positioned after the documents p records. A file is
// started while the previous one is still encoding and uploading, so the
// reading of one file overlaps the last requests of the one before (two
// store round trips per file, which at tens of milliseconds of latency
// otherwise leave the cores idle between files) and, for a format whose
// encoder bounds it such as Parquet, two files of a collection are
// encoded at once; the format's own budget bounds the memory they hold.
// Once the collection's last document is read, slot (nil for small
// collections) moves to finishing so the next large collection starts. Progress is still recorded file after file, in order,
// each once its file is at its key, exactly as if they were written one
// at a time: a successor resumes at the first unrecorded file and
// rewrites it, and any later one, under the same keys with the same
// documents.
func exportFiles(ctx context.Context, fc format.Collection, dest blob.Bucket, log *progressLog, r *snapshot.DocumentReader, job *atlas.ExportJob, u *unit, p atlas.Progress, limit int64, live *liveUnit, slot *largeSlot) (err error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var pending *startedFile
	defer func() {
		// A file still in flight after a failure is abandoned: cancel it
		// and wait, so its upload is aborted before this returns.
		if pending != nil {
			cancel(err)
			_ = pending.finish()
		}
	}()
	// record waits for the pending file and records the progress it
	// completes.
	record := func() error {
		f := pending
		pending = nil
		if err := f.finish(); err != nil {
			return err
		}
		noteDocuments(dest, f.key, f.docs)
		p.NextChunk++
		p.DocsDone += f.docs
		p.BytesDone += f.bytes
		p.Done = f.eof
		return log.add(ctx, p)
	}
	for {
		if cause := context.Cause(ctx); cause != nil {
			return cause
		}
		doc, err := r.Next()
		if errors.Is(err, io.EOF) {
			if pending != nil {
				if err := record(); err != nil {
					return err
				}
			}
			if p.Done {
				return nil
			}
			p.Done = true
			return log.add(ctx, p)
		}
		if err != nil {
			return fmt.Errorf("read %s.%s on %s: %w", u.key.DB, u.key.Coll, u.key.ReplicaSet, err)
		}
		n := p.NextChunk
		if pending != nil {
			n++
		}
		key := fileKey(job, u, n)
		docs, bytes, eof, finish, err := fc.StartFile(ctx, dest, key, r, doc, limit, live.add)
		if err != nil {
			_ = finish()
			return err
		}
		if eof {
			slot.finish(ctx)
		}
		started := &startedFile{key: key, docs: docs, bytes: bytes, eof: eof, finish: finish}
		if pending != nil {
			if err := record(); err != nil {
				pending = started
				return err
			}
		}
		pending = started
		if eof {
			return record()
		}
	}
}
