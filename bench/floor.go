package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// floorPrefix stands in for an export's prefix: the same depth as the
// prefix Atlas (and snapex) write under.
const floorPrefix = "exported_snapshots/6a0000000000000000000001/6b0000000000000000000001/Bench0/2026-11-22T0000/1763769600"

// floorWorkers matches snapex's number of small collections in flight.
const floorWorkers = 16

// runFloor measures the file-system floor of an export's layout in a
// child process: every collection's directory, its data file (the ready
// Extended JSON, not compressed) and its metadata.json written under out,
// then one syncfs, as snapex syncs before it records progress. No
// encoding, no compression: for thousands of tiny collections this is
// what creating the files alone costs on this machine.
func runFloor(self string, info *datasetInfo, out string) (result, error) {
	if err := os.RemoveAll(out); err != nil {
		return result{}, fmt.Errorf("clear %s: %w", out, err)
	}
	defer os.RemoveAll(out)
	rep, err := runWorker(self, "files-worker", info.dir, out)
	if err != nil {
		return result{}, err
	}
	return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU), OutBytes: rep.Out}, nil
}

// filesWorkerMain is the files-worker command (see runFloor). It prints a
// limitReport; In is the number of files written.
func filesWorkerMain(args []string) error {
	fs := flag.NewFlagSet("files-worker", flag.ContinueOnError)
	workers := fs.Int("workers", floorWorkers, "goroutines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("usage: files-worker [-workers N] DATASET_DIR OUT_DIR")
	}
	d := &datasetInfo{dir: fs.Arg(0)}
	out := fs.Arg(1)
	paths, _, err := fileTree(d.EJSONDir())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	cpu0 := selfCPU()
	start := time.Now()
	var next, files, written atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, *workers)
	for range *workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(paths) {
					return
				}
				n, err := writeFloorCollection(d, paths[i], out)
				if err != nil {
					errs <- err
					return
				}
				files.Add(2)
				written.Add(n)
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if err := syncDir(out); err != nil {
		return err
	}
	elapsed := time.Since(start)
	cpu := selfCPU() - cpu0
	hwm, err := vmHWM(os.Getpid())
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(limitReport{Seconds: elapsed.Seconds(), In: files.Load(), Out: written.Load(), Workers: *workers, HWM: hwm, CPU: cpu.Seconds()})
}

// writeFloorCollection writes one collection's directory, data file and
// metadata.json; it returns the bytes written.
func writeFloorCollection(d *datasetInfo, ejsonPath, out string) (int64, error) {
	rel, err := filepath.Rel(d.EJSONDir(), ejsonPath)
	if err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	db, file := filepath.Split(rel)
	coll := strings.TrimSuffix(file, ".json")
	data, err := os.ReadFile(ejsonPath)
	if err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	md, err := os.ReadFile(filepath.Join(d.DumpDir(), db, coll+".metadata.json"))
	if err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	dir := filepath.Join(out, floorPrefix, db, coll)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rs0.0.json"), data, 0o644); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata.json"), md, 0o644); err != nil {
		return 0, fmt.Errorf("files: %w", err)
	}
	return int64(len(data) + len(md)), nil
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
