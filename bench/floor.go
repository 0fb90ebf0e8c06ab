package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/klauspost/compress/gzip"
	"golang.org/x/sys/unix"
)

// floorPrefix stands in for an export's prefix: the same depth as the
// prefix Atlas (and snapex) write under.
const floorPrefix = "exported_snapshots/6a0000000000000000000001/6b0000000000000000000001/Bench0/2026-11-22T0000/1763769600"

// floorWorkers is the fewest small collections snapex keeps in flight
// (internal/export's smallInFlightMin), about what it keeps on loopback.
const floorWorkers = 16

// runFloor measures the file-system floor of an export's layout in a
// child process: every collection's directory, its data file and its
// metadata.json written under out, then one syncfs, as snapex syncs
// before it records progress. The contents are prepared before the clock
// starts (the data file gzip-compressed at level 1, so it has the size of
// the export's), and the directories are created with one mkdir each: no
// reading, encoding or compressing is timed, only what creating the
// export's files costs on this machine.
func runFloor(self string, info *datasetInfo, out string) (result, error) {
	if err := discard(out); err != nil {
		return result{}, err
	}
	defer discard(out)
	rep, err := runWorker(self, "files-worker", info.dir, out)
	if err != nil {
		return result{}, err
	}
	return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU), OutBytes: rep.Out}, nil
}

// runFloorS3 is runFloor against versitygw, at endpoint (versitygw itself
// or a delay proxy in front of it): every collection's data file and
// metadata.json PUT into a fresh bucket with the AWS SDK, workers at a
// time — what the objects alone cost this S3 server and client.
func runFloorS3(self string, info *datasetInfo, vg *versity, endpoint string, workers int) (result, error) {
	bucket := "bench-floor-" + strings.ToLower(randomHex(4))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := vg.createBucket(ctx, bucket)
	cancel()
	if err != nil {
		return result{}, err
	}
	defer discard(filepath.Join(vg.dir, bucket))
	os.Setenv(floorS3AccessEnv, vg.AccessKey)
	os.Setenv(floorS3SecretEnv, vg.SecretKey)
	rep, err := runWorker(self, "files-worker", "-workers", strconv.Itoa(workers), "-s3-endpoint", endpoint, "-s3-bucket", bucket, info.dir)
	if err != nil {
		return result{}, err
	}
	return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU), OutBytes: rep.Out}, nil
}

// The S3 floor worker takes versitygw's keys from the environment.
const (
	floorS3AccessEnv = "BENCH_FLOOR_S3_ACCESS_KEY"
	floorS3SecretEnv = "BENCH_FLOOR_S3_SECRET_KEY"
)

// filesWorkerMain is the files-worker command (see runFloor and
// runFloorS3). It prints a limitReport; In is the number of files written.
func filesWorkerMain(args []string) error {
	fs := flag.NewFlagSet("files-worker", flag.ContinueOnError)
	workers := fs.Int("workers", floorWorkers, "goroutines")
	endpoint := fs.String("s3-endpoint", "", "PUT to this S3 endpoint instead of writing files")
	bucket := fs.String("s3-bucket", "", "the bucket, with -s3-endpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var put func(key string, data []byte) error
	switch {
	case *endpoint != "" && fs.NArg() == 1:
		// As many idle connections as PUTs in flight, as snapex's drivers
		// keep, so no request pays for a new connection.
		keep := func(tr *http.Transport) { tr.MaxIdleConnsPerHost = *workers + 32 }
		client := s3.New(s3.Options{
			BaseEndpoint: endpoint, Region: "us-east-1", UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(os.Getenv(floorS3AccessEnv), os.Getenv(floorS3SecretEnv), ""),
			HTTPClient:  awshttp.NewBuildableClient().WithTransportOptions(keep),
		})
		put = func(key string, data []byte) error {
			_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: bucket, Key: &key, Body: bytes.NewReader(data)})
			if err != nil {
				return fmt.Errorf("files: put %s: %w", key, err)
			}
			return nil
		}
	case *endpoint == "" && fs.NArg() == 2:
	default:
		return fmt.Errorf("usage: files-worker [-workers N] DATASET_DIR OUT_DIR | files-worker [-workers N] -s3-endpoint URL -s3-bucket B DATASET_DIR")
	}
	d := &datasetInfo{dir: fs.Arg(0)}
	out := fs.Arg(1)
	colls, err := loadFloorCollections(d)
	if err != nil {
		return err
	}
	if put == nil {
		if err := makeFloorParents(out, colls); err != nil {
			return err
		}
	}
	clock := startClock()
	var files, written atomic.Int64
	err = pullEach(*workers, len(colls), func() (func(int) error, func(), error) {
		return func(i int) error {
			n, err := colls[i].write(out, put)
			if err != nil {
				return err
			}
			files.Add(2)
			written.Add(n)
			return nil
		}, nil, nil
	})
	if err != nil {
		return err
	}
	if put == nil {
		if err := syncDir(out); err != nil {
			return err
		}
	}
	return clock.report(files.Load(), written.Load(), *workers)
}

// floorCollection is one collection's part of the floor, ready to write.
type floorCollection struct {
	db, coll string
	data     []byte // the Extended JSON, gzip level 1
	metadata []byte
}

// loadFloorCollections reads and compresses every collection of d, before
// anything is timed.
func loadFloorCollections(d *datasetInfo) ([]floorCollection, error) {
	paths, _, err := fileTree(d.EJSONDir())
	if err != nil {
		return nil, err
	}
	colls := make([]floorCollection, 0, len(paths))
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	for _, p := range paths {
		rel, err := filepath.Rel(d.EJSONDir(), p)
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		db, file := filepath.Split(rel)
		c := floorCollection{db: filepath.Clean(db), coll: strings.TrimSuffix(file, ".json")}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		buf.Reset()
		zw.Reset(&buf)
		if _, err := zw.Write(data); err != nil {
			return nil, fmt.Errorf("files: gzip %s: %w", p, err)
		}
		if err := zw.Close(); err != nil {
			return nil, fmt.Errorf("files: gzip %s: %w", p, err)
		}
		c.data = bytes.Clone(buf.Bytes())
		if c.metadata, err = os.ReadFile(filepath.Join(d.DumpDir(), c.db, c.coll+".metadata.json")); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		colls = append(colls, c)
	}
	return colls, nil
}

// makeFloorParents creates the prefix and database directories under out,
// so each collection then costs one mkdir.
func makeFloorParents(out string, colls []floorCollection) error {
	made := map[string]bool{}
	for _, c := range colls {
		if !made[c.db] {
			if err := os.MkdirAll(filepath.Join(out, floorPrefix, c.db), 0o755); err != nil {
				return fmt.Errorf("files: %w", err)
			}
			made[c.db] = true
		}
	}
	return nil
}

// write creates c's directory, data file and metadata.json under out (or
// PUTs its two objects when put is set) and returns the bytes written.
func (c floorCollection) write(out string, put func(key string, data []byte) error) (int64, error) {
	n := int64(len(c.data) + len(c.metadata))
	if put != nil {
		dir := floorPrefix + "/" + c.db + "/" + c.coll
		if err := put(dir+"/rs0.0.json.gz", c.data); err != nil {
			return 0, err
		}
		return n, put(dir+"/metadata.json", c.metadata)
	}
	dir := filepath.Join(out, floorPrefix, c.db, c.coll)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rs0.0.json.gz"), c.data, 0o644); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), c.metadata, 0o644); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	return n, nil
}

// syncDir makes everything written on dir's file system durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("files: %w", err)
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return fmt.Errorf("files: syncfs %s: %w", dir, err)
	}
	return nil
}
