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

// The inference pass is spread over the cores like the writing: the
// caller reads documents into batches, every core observes whole batches
// into a tree of its own, and the trees are merged in batch order, which
// gives the tree one sequential pass would (node.merge).

// inferBatchBytes is the BSON of one inference batch.
const inferBatchBytes = 1 << 20

// inferBatch is one batch of documents and the tree observed from it.
type inferBatch struct {
	raw   []byte
	first int // the collection's document number of the first document
	tree  *node
	err   error
	done  chan struct{}
}

// infer observes every document of r.
func infer(ctx context.Context, r format.Documents) (*node, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := runtime.GOMAXPROCS(0)
	tasks := make(chan *inferBatch)
	order := make(chan *inferBatch, 2*workers)
	var wg sync.WaitGroup
	wg.Add(workers)
	for range workers {
		go func() {
			defer wg.Done()
			for b := range tasks {
				b.tree, b.err = observeBatch(b)
				close(b.done)
			}
		}()
	}
	merged := make(chan error, 1)
	root := &node{}
	go func() {
		var failed error
		for b := range order {
			<-b.done
			if failed == nil && b.err != nil {
				failed = b.err
				cancel(failed)
			}
			if failed == nil {
				root.merge(b.tree)
			}
		}
		merged <- failed
	}()
	readErr := readBatches(ctx, r, func(b *inferBatch) bool {
		order <- b
		select {
		case tasks <- b:
			return true
		case <-ctx.Done():
			b.err = context.Cause(ctx)
			close(b.done)
			return false
		}
	})
	close(tasks)
	close(order)
	wg.Wait()
	err := <-merged
	if readErr != nil {
		err = readErr
	}
	if err == nil {
		err = context.Cause(ctx)
	}
	if err != nil {
		return nil, err
	}
	return root, nil
}

// readBatches reads r to its end into batches for submit, which reports
// false when the pass is over.
func readBatches(ctx context.Context, r format.Documents, submit func(*inferBatch) bool) error {
	var n int
	b := &inferBatch{done: make(chan struct{})}
	for {
		doc, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("infer schema: %w", err)
		}
		if b.raw == nil {
			b.raw = make([]byte, 0, inferBatchBytes+len(doc))
		}
		b.raw = append(b.raw, doc...)
		n++
		if len(b.raw) >= inferBatchBytes {
			if !submit(b) {
				return context.Cause(ctx)
			}
			b = &inferBatch{first: n, done: make(chan struct{})}
		}
	}
	if len(b.raw) > 0 && !submit(b) {
		return context.Cause(ctx)
	}
	return nil
}

// observeBatch observes b's documents into a tree of their own.
func observeBatch(b *inferBatch) (*node, error) {
	t := &node{}
	for raw, n := b.raw, b.first; len(raw) > 0; n++ {
		size := int(uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24)
		t.types |= bitDoc
		if err := t.observeDoc(raw[:size], 0); err != nil {
			return nil, fmt.Errorf("infer schema, document %d: %w", n, err)
		}
		raw = raw[size:]
	}
	return t, nil
}
