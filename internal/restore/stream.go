package restore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/ejson"
)

// InputError is bad input in a data file: it names the object and the
// line where reading stopped.
type InputError struct {
	Key  string
	Line int
	Err  error
}

// Error formats the error as "KEY line N: CAUSE".
func (e *InputError) Error() string {
	return fmt.Sprintf("data file %s line %d: %v", e.Key, e.Line, e.Err)
}

// Unwrap returns the cause.
func (e *InputError) Unwrap() error { return e.Err }

// batch is a run of consecutive documents of one data file.
type batch struct {
	docs  []bson.Raw
	lines []int
	bytes int
	first int64 // ordinal of docs[0] in its file
}

// fileStream reads one data file's documents as BSON.
type fileStream struct {
	key string
	rc  io.ReadCloser
	sp  *splitter
	n   int64 // documents returned or skipped so far
}

// openStream opens key for reading: a gzip stream of any number of
// members holding Extended JSON documents.
func openStream(ctx context.Context, b blob.Bucket, key string) (*fileStream, error) {
	rc, err := b.NewReader(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("open data file %s: %w", key, err)
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(rc, 256<<10))
	if err != nil {
		rc.Close()
		return nil, &InputError{Key: key, Line: 1, Err: fmt.Errorf("not gzip data: %w", err)}
	}
	return &fileStream{key: key, rc: rc, sp: newSplitter(zr)}, nil
}

func (s *fileStream) Close() error { return s.rc.Close() }

// inputError wraps a splitter or decompression error with the position.
func (s *fileStream) inputError(line int, err error) error {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		err = fmt.Errorf("gzip data is truncated (%d documents read): %w", s.n, err)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		err = fmt.Errorf("gzip data is corrupt (%d documents read): %w", s.n, err)
	case errors.Is(err, errTruncated):
		err = fmt.Errorf("%w (%d documents read before it)", err, s.n)
	}
	return &InputError{Key: s.key, Line: line, Err: err}
}

// skip passes over n documents without parsing them.
func (s *fileStream) skip(n int64) error {
	for s.n < n {
		_, line, err := s.sp.next()
		if err == io.EOF {
			return &InputError{Key: s.key, Line: line, Err: fmt.Errorf("file has %d documents, but progress records %d done: it changed since", s.n, n)}
		}
		if err != nil {
			return s.inputError(line, err)
		}
		s.n++
	}
	return nil
}

// nextBatch parses up to maxDocs documents (fewer when maxBytes of BSON
// is reached) into a new batch; io.EOF when the file is done.
func (s *fileStream) nextBatch(maxDocs, maxBytes int) (*batch, error) {
	b := &batch{first: s.n, docs: make([]bson.Raw, 0, min(maxDocs, 1024)), lines: make([]int, 0, min(maxDocs, 1024))}
	for len(b.docs) < maxDocs && b.bytes < maxBytes {
		text, line, err := s.sp.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.inputError(line, err)
		}
		doc, err := parseDocument(text)
		if err != nil {
			return nil, &InputError{Key: s.key, Line: line, Err: err}
		}
		b.docs = append(b.docs, doc)
		b.lines = append(b.lines, line)
		b.bytes += len(doc)
		s.n++
	}
	if len(b.docs) == 0 {
		return nil, io.EOF
	}
	return b, nil
}

// parseDocument turns one Extended JSON document into BSON
// (ejson.ParseDocument) and checks that it has an _id.
func parseDocument(text []byte) (bson.Raw, error) {
	doc, err := ejson.ParseDocument(text)
	if err != nil {
		return nil, err
	}
	if _, err := doc.LookupErr("_id"); err != nil {
		return nil, fmt.Errorf("document has no _id, so it cannot be restored exactly once")
	}
	return doc, nil
}
