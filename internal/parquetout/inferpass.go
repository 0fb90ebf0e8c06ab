package parquetout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/snapex/snapex/internal/export/format"
)

// The schema pass comes before a collection's first file, with nothing
// else of the collection to overlap it, so it is split over the cores:
// the caller reads the documents into pieces as the file pipeline does,
// each core observes whole pieces into a tree of its own, and the trees
// are merged (node.merge) into exactly the tree one pass over every
// document would have built, field order included. One such pass runs
// at a time in the process (parallelPass): when many collections are in
// flight the cores are busy anyway, and each parallel pass holds a few
// pieces, so the others observe their documents on their own goroutine.
// The 20-collection benchmark runs up to 16 collections at once.

// parallelPass admits one schema pass split over the cores.
var parallelPass = make(chan struct{}, 1)

// inferred is one piece of documents for the schema pass: its BSON, back
// to back, and the collection's number of its first document.
type inferred struct {
	first int64
	b     []byte
}

// infer observes every document of r and returns the tree.
func infer(ctx context.Context, r format.Documents) (*node, error) {
	select {
	case parallelPass <- struct{}{}:
		defer func() { <-parallelPass }()
		return inferParallel(ctx, r)
	default:
		return inferSerial(ctx, r)
	}
}

// inferSerial observes every document of r on the calling goroutine.
func inferSerial(ctx context.Context, r format.Documents) (*node, error) {
	root, p := &node{}, &pass{}
	for n := int64(0); ; n++ {
		if n&1023 == 0 {
			if cause := context.Cause(ctx); cause != nil {
				return nil, cause
			}
		}
		doc, err := r.Next()
		if errors.Is(err, io.EOF) {
			return root, nil
		}
		if err != nil {
			return nil, fmt.Errorf("infer schema: %w", err)
		}
		if err := root.observeTop(p, n, doc); err != nil {
			return nil, err
		}
	}
}

// inferParallel observes every document of r on every core and returns
// the merged tree.
func inferParallel(ctx context.Context, r format.Documents) (*node, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := runtime.GOMAXPROCS(0)
	pieces := make(chan inferred, workers)
	roots := make([]*node, workers)
	var wg sync.WaitGroup
	for w := range workers {
		root := &node{}
		roots[w] = root
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &pass{}
			failed := false
			for pc := range pieces {
				n := pc.first
				for raw := pc.b; len(raw) > 0 && !failed; n++ {
					var doc []byte
					doc, raw = firstDoc(raw)
					if err := root.observeTop(p, n, doc); err != nil {
						failed = true
						cancel(err)
					}
				}
				putPiece(pc.b)
			}
		}()
	}
	err := readPieces(ctx, r, pieces)
	close(pieces)
	wg.Wait()
	if cause := context.Cause(ctx); cause != nil {
		return nil, cause // a worker's failure, or the caller's end
	}
	if err != nil {
		return nil, err
	}
	root := roots[0]
	for _, o := range roots[1:] {
		root.merge(o)
	}
	return root, nil
}

// observeTop observes document number n of the collection into the root.
func (root *node) observeTop(p *pass, n int64, doc []byte) error {
	p.doc = n
	root.types |= bitDoc
	if err := root.observeDoc(p, doc, 0); err != nil {
		return fmt.Errorf("infer schema, document %d: %w", n, err)
	}
	return nil
}

// readPieces sends every document of r to pieces, about pieceBytes at a
// time, until the end of r or of ctx.
func readPieces(ctx context.Context, r format.Documents, pieces chan<- inferred) error {
	piece, first := getPiece(), int64(0)
	send := func(next int64) bool {
		select {
		case pieces <- inferred{first: first, b: piece}:
			piece, first = getPiece(), next
			return true
		case <-ctx.Done():
			return false
		}
	}
	defer func() { putPiece(piece) }()
	for n := int64(0); ; n++ {
		if n&1023 == 0 {
			if cause := context.Cause(ctx); cause != nil {
				return cause
			}
		}
		doc, err := r.Next()
		if errors.Is(err, io.EOF) {
			if len(piece) > 0 && !send(n) {
				return context.Cause(ctx)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("infer schema: %w", err)
		}
		if len(piece)+len(doc) > pieceBytes && len(piece) > 0 && !send(n) {
			return context.Cause(ctx)
		}
		piece = append(piece, doc...)
	}
}
