// Package format is the contract between the export engine and an output
// format other than Atlas's gzipped Extended JSON (which the engine
// writes itself): the engine plans, resumes and records data files; a
// Format only turns a collection's documents into the bytes of each file.
package format

import (
	"context"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Documents yields a collection's documents in snapshot order; a returned
// document is valid only until the next call of Next, which returns
// io.EOF after the last one.
type Documents interface {
	Next() (bson.Raw, error)
	Close() error
}

// Format is an output format.
type Format interface {
	// ContentType is the data files' MIME type.
	ContentType() string
	// Collection prepares the files of one collection of one replica set.
	// scan opens the collection from its first document, for passes such
	// as schema inference; the caller of scan closes what it returns.
	Collection(ctx context.Context, scan func(context.Context) (Documents, error), opts *atlas.ExportOptions) (Collection, error)
}

// Collection writes the data files of one collection.
type Collection interface {
	// StartFile begins one data file at key holding first and the
	// documents after it from r, until limit bytes of BSON or the end of
	// the collection. It returns once it has taken the file's documents
	// from r, reporting how many, their BSON bytes and whether the
	// collection ended, while the file may still be encoding and
	// uploading: finish waits for that and reports whether the file is
	// now at key. So the caller may read the next file while this one
	// finishes. finish must be called exactly once, also after an error
	// or the end of ctx; a file that fails, in StartFile or in finish,
	// leaves nothing at key that was not there before. progress (may be
	// nil) is told of the documents and BSON bytes of each part of the
	// file once it is written, so progress moves inside a large file.
	StartFile(ctx context.Context, dest blob.Bucket, key string, r Documents, first bson.Raw, limit int64, progress func(docs, bytes int64)) (docs, size int64, eof bool, finish func() error, err error)
}
