package export_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/testenv"
)

// BenchmarkExportToS3 exports a generated snapshot of ~1 KiB documents
// across 20 collections into versitygw on loopback and reports MB/s of
// BSON in, documents/s and the process's peak RSS during the export.
// SNAPEX_BENCH_MIB sets the snapshot size (default 64; the figure
// uses 1024): SNAPEX_BENCH_MIB=1024 go test -run '^$' -bench ExportToS3 -benchtime 1x ./internal/export
func BenchmarkExportToS3(b *testing.B) { benchmarkExport(b, twentyCollections(benchMiB()), true) }

// BenchmarkExportToLocal is BenchmarkExportToS3 into the local-directory
// driver: the encoder, compressor and pipeline without network costs.
func BenchmarkExportToLocal(b *testing.B) { benchmarkExport(b, twentyCollections(benchMiB()), false) }

// BenchmarkExportToLocalUncompressed reads a snapshot stored as plain
// .bson (snapshots.uncompressed), so no decompression is paid.
func BenchmarkExportToLocalUncompressed(b *testing.B) {
	benchmarkRun(b, twentyCollections(benchMiB()), "", nil, snapshot.WithGzipLevel(0))
}

func benchMiB() int {
	if v, err := strconv.Atoi(os.Getenv("SNAPEX_BENCH_MIB")); err == nil && v > 0 {
		return v
	}
	return 64
}

// twentyCollections spreads mib MiB of ~1 KiB documents over 20
// collections.
func twentyCollections(mib int) map[string]int {
	colls := map[string]int{}
	for i := 0; i < 20; i++ {
		colls[fmt.Sprintf("bench.c%02d", i)] = mib * 1024 / 20
	}
	return colls
}

// tinyCollections is n collections of 5 small documents.
func tinyCollections(n int) map[string]int {
	colls := map[string]int{}
	for i := 0; i < n; i++ {
		colls[fmt.Sprintf("tiny.c%04d", i)] = 5
	}
	return colls
}

func benchmarkExport(b *testing.B, colls map[string]int, toS3 bool) {
	if !toS3 {
		benchmarkRun(b, colls, "", nil)
		return
	}
	s3 := testenv.VersityGW(b)
	s3.CreateBucket(b, "bench")
	b.Setenv("BENCH_AK", s3.AccessKey)
	b.Setenv("BENCH_SK", s3.SecretKey)
	roles := `          - id: ` + s3Role + `
            provider: AWS
            aws: {accessKeyId: env:BENCH_AK, secretAccessKey: env:BENCH_SK, region: us-east-1, endpoint: ` + s3.Endpoint + `, usePathStyle: true}`
	benchmarkRun(b, colls, roles, func(f *fixture) *atlas.ExportBucket {
		return &atlas.ExportBucket{ID: atlas.NewObjectID(time.Now()), GroupID: groupID, BucketName: "bench", CloudProvider: atlas.AWS, RoleID: s3Role, CreatedAt: time.Now()}
	})
}

// benchmarkRun exports a generated snapshot of colls (documents per
// collection); bucket, when set, replaces the fixture's local bucket.
func benchmarkRun(b *testing.B, colls map[string]int, roles string, bucket func(*fixture) *atlas.ExportBucket, opts ...snapshot.WriterOption) {
	f := newFixture(b, "", roles, "Cluster0", []string{"rs0"}, colls, opts...)
	ctx := context.Background()
	if bucket != nil {
		f.bucket = bucket(f)
		if err := f.store.CreateBucket(ctx, f.bucket); err != nil {
			b.Fatal(err)
		}
	}
	var bsonBytes, docs int64
	for _, d := range f.docs {
		docs += int64(len(d))
		for _, doc := range d {
			bsonBytes += int64(len(doc))
		}
	}
	f.docs = nil // the export reads the snapshot, not these
	// Give the generated documents back to the OS so the peak measured
	// below is the export's, not the generator's.
	runtime.GC()
	debug.FreeOSMemory()
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		job := f.newJob()
		resetPeakRSS()
		start := time.Now()
		e := f.engine("bench")
		e.ChunkBytes = 64 << 20
		if err := e.Run(ctx, job.ID, false); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		if got := f.job(job.ID); got.State != atlas.ExportSuccessful {
			b.Fatalf("job %s: %+v", got.State, got.StateReason)
		}
		// One active export per snapshot: the next iteration may start.
	}
	secs := elapsed.Seconds() / float64(b.N)
	b.ReportMetric(float64(bsonBytes)/1e6/secs, "MB/s")
	b.ReportMetric(float64(docs)/secs, "docs/s")
	b.ReportMetric(float64(peakRSS())/(1<<20), "peakRSS-MiB")
}

// resetPeakRSS clears the kernel's high-water mark of this process (Linux).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM from /proc/self/status in bytes.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// BenchmarkExportTinyCollections exports SNAPEX_BENCH_TINY (default 2,000) collections of 5 small
// documents each, stored uncompressed as bench/run.sh stores its tiny
// dataset, to the local driver: per-collection costs dominate.
func BenchmarkExportTinyCollections(b *testing.B) {
	benchmarkRun(b, tinyCollections(tinyCount()), "", nil, snapshot.WithGzipLevel(0))
}

// tinyCount is how many tiny collections the tiny benchmarks export:
// SNAPEX_BENCH_TINY, default 2,000 (bench/run.sh's dataset has 10,000).
func tinyCount() int {
	if v, err := strconv.Atoi(os.Getenv("SNAPEX_BENCH_TINY")); err == nil && v > 0 {
		return v
	}
	return 2000
}

// BenchmarkExportTinyCollectionsToS3 is BenchmarkExportTinyCollections
// into versitygw: two small PUTs per collection.
func BenchmarkExportTinyCollectionsToS3(b *testing.B) {
	benchmarkExport(b, tinyCollections(tinyCount()), true)
}
