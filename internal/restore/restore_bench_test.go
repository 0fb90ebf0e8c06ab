package restore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/blob/local"
	"github.com/snapex/snapex/internal/testenv"
)

// BenchmarkRestoreFerretDB restores one collection of 20,000 ~1 KiB
// documents in four data files into FerretDB, end to end (gunzip, parse,
// bulk inserts, progress records, count check). Compare its MB/s with
// BenchmarkParse's to see which side bounds a restore.
func BenchmarkRestoreFerretDB(b *testing.B) {
	dir := b.TempDir()
	var size int64
	for f := range 4 {
		text, n := benchCorpus(b, 5000)
		size += n
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(text)
		zw.Close()
		p := filepath.Join(dir, "bench", "docs", fmt.Sprintf("rs0.%d.json.gz", f))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, z.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bench", "docs", "metadata.json"), []byte(`{"collectionName":"docs","indexes":[],"options":{}}`), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".complete"), []byte(`{"totalFiles":5}`), 0o644); err != nil {
		b.Fatal(err)
	}
	bucket, err := local.Open(local.Options{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer bucket.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(testenv.FerretDB(b)))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	b.SetBytes(size)
	start := time.Now()
	for b.Loop() {
		e := &Engine{Source: bucket, Client: client, Progress: NewMongoProgress(client, ""),
			Options: Options{Drop: true, Restart: true, Parallelism: 4}, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, err := e.Run(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(20000*float64(b.N)/time.Since(start).Seconds(), "docs/s")
}
