package restore

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/testenv"
)

// BenchmarkRestoreContenders restores the same 20,000 ~1 KiB documents
// (one collection, four data files) into one FerretDB, through the
// compatibility proxy mongo-tools need, with:
//
//   - snapex: the real `snapex restore` command on the export;
//   - mongoimport: the do-it-yourself path Atlas documents — gunzip each
//     file, then mongoimport it, one file at a time;
//   - mongoimport-parallel: the same with all files at once and
//     --numInsertionWorkers 4;
//   - mongorestore: mongorestore of the equivalent dump (.bson files).
//
// It reports BSON MB/s, documents/s and the peak RSS of the processes
// (largest maxrss of any of them). FerretDB bounds all of them here; see
// BenchmarkParse for snapex's own parse rate.
func BenchmarkRestoreContenders(b *testing.B) {
	const files, perFile = 4, 5000
	dir := b.TempDir()
	exportDir, dumpDir, jsonDir := filepath.Join(dir, "export"), filepath.Join(dir, "dump", "bench"), filepath.Join(dir, "json")
	for _, d := range []string{filepath.Join(exportDir, "bench", "docs"), dumpDir, jsonDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	var dump bytes.Buffer
	for f := range files {
		text, n := benchCorpus(b, perFile)
		size += n
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(text)
		zw.Close()
		if err := os.WriteFile(filepath.Join(exportDir, "bench", "docs", fmt.Sprintf("rs0.%d.json.gz", f)), z.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		sp := newSplitter(bytes.NewReader(text))
		for {
			line, _, err := sp.next()
			if err != nil {
				break
			}
			doc, err := parseDocument(line)
			if err != nil {
				b.Fatal(err)
			}
			dump.Write(doc)
		}
	}
	meta := `{"collectionName":"docs","indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],"options":{}}`
	for name, data := range map[string][]byte{
		filepath.Join(exportDir, "bench", "docs", "metadata.json"): []byte(meta),
		filepath.Join(exportDir, ".complete"):                      []byte(fmt.Sprintf(`{"totalFiles":%d}`, files+1)),
		filepath.Join(dumpDir, "docs.bson"):                        dump.Bytes(),
		filepath.Join(dumpDir, "docs.metadata.json"):               []byte(`{"indexes":[{"v":2,"key":{"_id":1},"name":"_id_"}],"options":{}}`),
	} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	mongoimport, mongorestore := testenv.Tool(b, "mongoimport"), testenv.Tool(b, "mongorestore")
	snapex := filepath.Join(dir, "snapex")
	if out, err := exec.Command("go", "build", "-o", snapex, "github.com/snapex/snapex/cmd/snapex").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	ferret := testenv.FerretDB(b)
	proxy := testenv.FerretDBCompat(b, ferret)
	client, err := mongo.Connect(options.Client().ApplyURI(ferret))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Disconnect(context.Background())

	seq := 0
	contender := func(name string, run func(db string) (maxRSS int64, err error)) {
		b.Run(name, func(b *testing.B) {
			var peak int64
			start := time.Now()
			for b.Loop() {
				seq++
				db := fmt.Sprintf("c%d", seq)
				rss, err := run(db)
				if err != nil {
					b.Fatal(err)
				}
				peak = max(peak, rss)
				if n, err := client.Database(db).Collection("docs").CountDocuments(context.Background(), bson.D{}); err != nil || n != files*perFile {
					b.Fatalf("%s restored %d documents (%v), want %d", name, n, err, files*perFile)
				}
			}
			secs := time.Since(start).Seconds()
			b.ReportMetric(float64(size)*float64(b.N)/1e6/secs, "MB/s")
			b.ReportMetric(float64(files*perFile*b.N)/secs, "docs/s")
			b.ReportMetric(float64(peak>>10), "peakRSS-MiB")
		})
	}
	contender("snapex", func(db string) (int64, error) {
		return runProc(exec.Command(snapex, "restore", "--uri", proxy.URI, "--nsFrom", "bench.docs", "--nsTo", db+".docs", exportDir))
	})
	contender("snapex-parallel1", func(db string) (int64, error) {
		return runProc(exec.Command(snapex, "restore", "--uri", proxy.URI, "--parallel", "1", "--nsFrom", "bench.docs", "--nsTo", db+".docs", exportDir))
	})
	contender("snapex-direct", func(db string) (int64, error) {
		return runProc(exec.Command(snapex, "restore", "--uri", ferret, "--nsFrom", "bench.docs", "--nsTo", db+".docs", exportDir))
	})
	gunzip := func(f int) (string, error) {
		data, err := os.ReadFile(filepath.Join(exportDir, "bench", "docs", fmt.Sprintf("rs0.%d.json.gz", f)))
		if err != nil {
			return "", err
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return "", err
		}
		var out bytes.Buffer
		if _, err := out.ReadFrom(zr); err != nil {
			return "", err
		}
		p := filepath.Join(jsonDir, fmt.Sprintf("rs0.%d.json", f))
		return p, os.WriteFile(p, out.Bytes(), 0o644)
	}
	contender("mongoimport", func(db string) (int64, error) {
		var peak int64
		for f := range files {
			p, err := gunzip(f)
			if err != nil {
				return 0, err
			}
			rss, err := runProc(exec.Command(mongoimport, "--uri", proxy.URI, "--db", db, "--collection", "docs", "--type", "json", "--file", p, "--quiet"))
			if err != nil {
				return 0, err
			}
			peak = max(peak, rss)
		}
		return peak, nil
	})
	contender("mongoimport-parallel", func(db string) (int64, error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var peak int64
		var firstErr error
		for f := range files {
			wg.Go(func() {
				p, err := gunzip(f)
				var rss int64
				if err == nil {
					rss, err = runProc(exec.Command(mongoimport, "--uri", proxy.URI, "--db", db, "--collection", "docs", "--type", "json", "--file", p,
						"--numInsertionWorkers", "4", "--quiet"))
				}
				mu.Lock()
				defer mu.Unlock()
				peak = max(peak, rss)
				if err != nil && firstErr == nil {
					firstErr = err
				}
			})
		}
		wg.Wait()
		return peak, firstErr
	})
	contender("mongorestore", func(db string) (int64, error) {
		return runProc(exec.Command(mongorestore, "--uri", proxy.URI, "--nsFrom", "bench.docs", "--nsTo", db+".docs",
			"--numInsertionWorkersPerCollection", "4", "--quiet", filepath.Dir(dumpDir)))
	})
}

// runProc runs cmd and returns its peak RSS in KiB.
func runProc(cmd *exec.Cmd) (int64, error) {
	out, rss, err := RunMeasured(cmd)
	if err != nil {
		return 0, fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	}
	return rss, nil
}
