package parquetout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/export/format"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// newTestCollection infers the schema of n generated documents and
// returns a writer with row groups of at most rows documents.
func newTestCollection(t *testing.T, n, rows int) *Collection {
	t.Helper()
	col, err := Format{}.Collection(context.Background(), func(context.Context) (format.Documents, error) { return newGenerated(n), nil },
		&atlas.ExportOptions{Format: atlas.FormatParquet, Parquet: &atlas.ParquetOptions{Compression: "zstd", RowGroupRows: rows}})
	if err != nil {
		t.Fatal(err)
	}
	return col.(*Collection)
}

// TestProgressPerRowGroup: progress moves once per row group written,
// adding up to the file, and the file holds those row groups in order,
// also when the documents fill the last row group exactly.
func TestProgressPerRowGroup(t *testing.T) {
	for _, docs := range []int64{2500, 2400} {
		t.Run(fmt.Sprint(docs), func(t *testing.T) { testProgressPerRowGroup(t, docs) })
	}
}

func testProgressPerRowGroup(t *testing.T, docs int64) {
	const rows = 300
	c := newTestCollection(t, int(docs), rows)
	src := newGenerated(int(docs))
	first, _ := src.Next()
	var out bytes.Buffer
	var calls, gotDocs, gotBytes int64
	n, size, eof, wait, err := c.start(context.Background(), &out, src, first, 1<<40, func(d, b int64) {
		calls++
		gotDocs += d
		gotBytes += b
	})
	if werr := wait(); err == nil {
		err = werr
	}
	if err != nil || n != docs || !eof {
		t.Fatalf("wrote %d documents (eof %v): %v", n, eof, err)
	}
	wantGroups := int64((docs + rows - 1) / rows)
	if calls != wantGroups || gotDocs != docs || gotBytes != size {
		t.Fatalf("progress: %d calls, %d documents, %d bytes; want %d calls, %d documents, %d bytes", calls, gotDocs, gotBytes, wantGroups, docs, size)
	}
	r, err := file.NewParquetReader(bytes.NewReader(out.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.NumRows() != docs || int64(r.NumRowGroups()) != wantGroups {
		t.Fatalf("file has %d rows in %d row groups, want %d in %d", r.NumRows(), r.NumRowGroups(), docs, wantGroups)
	}
	// The generated documents number themselves in field i: row order is
	// document order although row groups are built concurrently.
	var prev int64
	for g := 0; g < r.NumRowGroups(); g++ {
		col, err := r.RowGroup(g).Column(c.schema.root.index["i"])
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]int64, rows)
		defLvls := make([]int16, rows)
		cr := col.(*file.Int64ColumnChunkReader)
		total, read, err := cr.ReadBatch(int64(rows), vals, defLvls, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vals[:read] {
			if v != prev+1 {
				t.Fatalf("row group %d: document %d follows %d", g, v, prev)
			}
			prev = v
		}
		_ = total
	}
	if prev != docs {
		t.Fatalf("last document %d, want %d", prev, docs)
	}
}

// TestLimitSplitsFiles: consecutive files of one source split at the
// limit, and together hold every document once.
func TestLimitSplitsFiles(t *testing.T) {
	const docs = 3000
	c := newTestCollection(t, docs, atlas.DefaultRowGroupRows)
	src := newGenerated(docs)
	var total int64
	var files int
	for {
		first, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		n, _, eof, err := c.Write(context.Background(), io.Discard, src, first, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		total += n
		files++
		if eof {
			break
		}
	}
	// ~1 KiB documents: 3000 of them are ~3 MiB, three or four files.
	if total != docs || files < 3 || files > 4 {
		t.Fatalf("%d documents in %d files, want %d in 3–4", total, files, docs)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

var errSink = errors.New("sink broken")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errSink
	}
	w.n -= len(p)
	return len(p), nil
}

// TestFailuresEndTheFile: a sink that fails, a document outside the
// schema and a cancelled context each end the file with an error, without
// hanging, and leave every row-group slot free.
func TestFailuresEndTheFile(t *testing.T) {
	const docs = 4000
	c := newTestCollection(t, docs, 200)
	stray, err := bson.Marshal(bson.D{{Key: "notInSchema", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		w    io.Writer
		src  format.Documents
		ctx  func() context.Context
		want func(error) bool
	}{
		{"sink fails", &failingWriter{n: 64 << 10}, newGenerated(docs), context.Background,
			func(err error) bool { return errors.Is(err, errSink) }},
		{"document outside the schema", io.Discard, &withStray{Documents: newGenerated(docs), at: 1500, doc: stray}, context.Background,
			func(err error) bool { return err != nil && bytes.Contains([]byte(err.Error()), []byte("notInSchema")) }},
		{"context cancelled", io.Discard, &slowDocs{Documents: newGenerated(docs)}, func() context.Context {
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			t.Cleanup(cancel)
			return ctx
		}, func(err error) bool { return errors.Is(err, context.DeadlineExceeded) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			first, _ := tc.src.Next()
			done := make(chan error, 1)
			go func() {
				_, _, _, err := c.Write(tc.ctx(), tc.w, tc.src, first, 1<<40)
				done <- err
			}()
			select {
			case err := <-done:
				if !tc.want(err) {
					t.Fatalf("error %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("the file hangs")
			}
			if n := len(groupSlots) + len(overlapSlots); n != 0 {
				t.Fatalf("%d row-group slots still held", n)
			}
		})
	}
}

// withStray yields doc as its at-th document.
type withStray struct {
	format.Documents
	i, at int
	doc   bson.Raw
}

func (s *withStray) Next() (bson.Raw, error) {
	s.i++
	if s.i == s.at {
		return s.doc, nil
	}
	return s.Documents.Next()
}

// slowDocs yields a document per millisecond, so a short deadline ends
// the file mid-way.
type slowDocs struct{ format.Documents }

func (s *slowDocs) Next() (bson.Raw, error) {
	time.Sleep(time.Millisecond)
	return s.Documents.Next()
}
