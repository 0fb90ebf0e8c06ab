package parquetout

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// A Parquet file is written by one goroutine (pqarrow encodes and
// compresses a row group's columns in turn, into one stream), but turning
// BSON into Arrow arrays is independent per row group. So a file is a
// pipeline: the caller reads documents into groups, builders (one per
// core) turn each group into an Arrow record, and one encoder writes the
// records in order. About half of the CPU goes to building, so on two
// cores the encoder never waits.
//
// Memory: every group holds its documents' BSON until it is built, then
// its record until it is written; a process-wide budget of groups
// (groupSlots) bounds both, whatever the number of files being written at
// once.

// groupSlots admits a row group into a pipeline; it is released once the
// group's record is written (or dropped). Each slot holds at most about
// 2 × rowGroupBytes (the BSON while building, then the record, ~1.1× the
// BSON on our documents). GOMAXPROCS + 2 lets every core build while the
// encoders write and the readers fill the next group.
var groupSlots = make(chan struct{}, runtime.GOMAXPROCS(0)+2)

// group is one row group on its way from the reader to the file.
type group struct {
	raw   []byte // the documents' BSON, back to back; nil once built
	first int64  // the file's document number of the first document
	docs  int64
	size  int64
	rec   arrow.RecordBatch
	err   error
	done  chan struct{}
}

// rawPool recycles the groups' BSON buffers between row groups and files.
var rawPool sync.Pool // *[]byte

func newGroup() *group {
	g := &group{done: make(chan struct{})}
	if p, ok := rawPool.Get().(*[]byte); ok {
		g.raw = (*p)[:0]
	} else {
		g.raw = make([]byte, 0, rowGroupBytes+rowGroupBytes/8)
	}
	return g
}

// freeRaw returns the group's BSON buffer to the pool.
func (g *group) freeRaw() {
	if g.raw != nil {
		b := g.raw
		rawPool.Put(&b)
		g.raw = nil
	}
}

// builders turn groups into records, each goroutine with its own
// RecordBuilder.
type builders struct {
	tasks chan *group
	wg    sync.WaitGroup
}

// startBuilders starts n builders of records of schema s.
func startBuilders(s *Schema, n int) *builders {
	b := &builders{tasks: make(chan *group)}
	b.wg.Add(n)
	for range n {
		go b.run(s)
	}
	return b
}

func (b *builders) run(s *Schema) {
	defer b.wg.Done()
	rb := array.NewRecordBuilder(memory.DefaultAllocator, s.arrow)
	defer rb.Release()
	app := newAppender(s, rb)
	broken := false
	for g := range b.tasks {
		if broken {
			// A failed document left rb's columns uneven.
			g.err = errors.New("an earlier row group failed")
		} else if g.err = buildGroup(app, rb, g); g.err != nil {
			broken = true
		}
		g.freeRaw()
		close(g.done)
	}
}

// buildGroup appends every document of g and cuts the record.
func buildGroup(app *appender, rb *array.RecordBuilder, g *group) error {
	app.reserve()
	var n int64
	for raw := g.raw; len(raw) > 0; n++ {
		size := int(uint32(raw[0]) | uint32(raw[1])<<8 | uint32(raw[2])<<16 | uint32(raw[3])<<24)
		if err := app.appendDoc(raw[:size]); err != nil {
			return fmt.Errorf("document %d: %w", g.first+n, err)
		}
		raw = raw[size:]
	}
	g.rec = app.record(rb)
	return nil
}

// close stops the builders once every submitted group is built.
func (b *builders) close() {
	close(b.tasks)
	b.wg.Wait()
}

// submit hands g to a builder, or fails it when ctx ends first.
func (b *builders) submit(ctx context.Context, g *group) bool {
	select {
	case b.tasks <- g:
		return true
	case <-ctx.Done():
		g.err = context.Cause(ctx)
		g.freeRaw()
		close(g.done)
		return false
	}
}
