package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// scriptedFormat is a format.Collection that takes documents up to the
// limit and logs when each file starts and finishes; finishing file
// failAt fails.
type scriptedFormat struct {
	mu     sync.Mutex
	events []string
	failAt int
	n      int
}

var errScripted = errors.New("scripted upload failure")

func (s *scriptedFormat) log(e string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.events = append(s.events, e)
}

func (s *scriptedFormat) StartFile(ctx context.Context, _ blob.Bucket, key string, r format.Documents, first bson.Raw, limit int64, _ func(docs, bytes int64)) (docs, size int64, eof bool, finish func() error, err error) {
	file := s.n
	s.n++
	s.log(fmt.Sprintf("start %d", file))
	doc := first
	for {
		docs++
		size += int64(len(doc))
		if size >= limit {
			break
		}
		if doc, err = r.Next(); errors.Is(err, io.EOF) {
			eof = true
			break
		} else if err != nil {
			return 0, 0, false, func() error { return err }, err
		}
	}
	finish = func() error {
		if ctx.Err() != nil {
			s.log(fmt.Sprintf("abandon %d", file))
			return ctx.Err()
		}
		s.log(fmt.Sprintf("finish %d", file))
		if file == s.failAt {
			return errScripted
		}
		return nil
	}
	return docs, size, eof, finish, nil
}

// formattedFixture runs exportFormatted over docs documents of ~100 bytes,
// files of limit bytes, with progress kept pending in the log.
func formattedFixture(t *testing.T, docs int, limit int64, fc *scriptedFormat) (*progressLog, error) {
	t.Helper()
	var buf bytes.Buffer
	for i := range docs {
		raw, err := bson.Marshal(bson.D{{Key: "i", Value: int32(i)}, {Key: "pad", Value: strings.Repeat("x", 80)}})
		if err != nil {
			t.Fatal(err)
		}
		buf.Write(raw)
	}
	r := snapshot.NewDocumentReader(&buf, "db.coll")
	// last in the future: no batch is due, so every record stays pending.
	log := &progressLog{ctx: context.Background(), last: time.Now().Add(time.Hour)}
	job := &atlas.ExportJob{Prefix: "p", Options: &atlas.ExportOptions{Format: atlas.FormatParquet}}
	u := &unit{key: atlas.ProgressKey{ReplicaSet: "rs0", DB: "db", Coll: "coll"}}
	err := exportFiles(context.Background(), fc, nil, log, r, job, u, atlas.Progress{}, limit, nil, nil)
	return log, err
}

// TestFormattedFilesOverlapAndRecordInOrder: the next file starts before
// the previous one finishes, and progress is recorded file after file.
func TestFormattedFilesOverlapAndRecordInOrder(t *testing.T) {
	fc := &scriptedFormat{failAt: -1}
	log, err := formattedFixture(t, 10, 300, fc) // 3 documents a file: 4 files
	if err != nil {
		t.Fatal(err)
	}
	want := "start 0,start 1,finish 0,start 2,finish 1,start 3,finish 2,finish 3"
	if got := strings.Join(fc.events, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	var got []string
	for _, p := range log.pending {
		got = append(got, fmt.Sprintf("%d/%d/%v", p.NextChunk, p.DocsDone, p.Done))
	}
	if s := strings.Join(got, " "); s != "1/3/false 2/6/false 3/9/false 4/10/true" {
		t.Fatalf("progress %s", s)
	}
}

// TestFormattedFailureAbandonsTheNextFile: when a file fails to finish,
// the one started after it is abandoned (its upload aborted) and nothing
// past the last good file is recorded.
func TestFormattedFailureAbandonsTheNextFile(t *testing.T) {
	fc := &scriptedFormat{failAt: 1}
	log, err := formattedFixture(t, 10, 300, fc)
	if !errors.Is(err, errScripted) {
		t.Fatalf("error %v, want the scripted failure", err)
	}
	want := "start 0,start 1,finish 0,start 2,finish 1,abandon 2"
	if got := strings.Join(fc.events, ","); got != want {
		t.Fatalf("events %s, want %s", got, want)
	}
	if len(log.pending) != 1 || log.pending[0].NextChunk != 1 || log.pending[0].Done {
		t.Fatalf("progress %+v, want only file 0 recorded", log.pending)
	}
}
