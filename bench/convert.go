package main

import (
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/snapex/snapex/internal/ejson"
)

// runConvert measures, in a child process, what an export does before it
// compresses: reading each collection's snapshot files (its BSON and its
// metadata) and turning the documents into canonical Extended JSON with
// the encoder snapex uses. With the limit (compression) and the floor
// (creating the files), it completes the work no exporter can skip, so
// the three together bound what an export can reach on this machine.
func runConvert(self string, info *datasetInfo) (result, error) {
	rep, err := runWorker(self, "convert-worker", info.DumpDir())
	if err != nil {
		return result{}, err
	}
	return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU), OutBytes: rep.Out}, nil
}

// convertWorkerMain is the convert-worker command: for every collection of
// a mongodump directory, read its .metadata.json and its .bson and encode
// every document as canonical Extended JSON into a reused buffer, one
// goroutine per core. It prints a limitReport (Out: bytes of JSON).
func convertWorkerMain(args []string) error {
	fs := flag.NewFlagSet("convert-worker", flag.ContinueOnError)
	workers := fs.Int("workers", runtime.NumCPU(), "goroutines")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: convert-worker [-workers N] DIR")
	}
	paths, _, err := fileTree(fs.Arg(0))
	if err != nil {
		return err
	}
	var colls []string // the .bson files; each has its .metadata.json
	for _, p := range paths {
		if strings.HasSuffix(p, ".bson") {
			colls = append(colls, p)
		}
	}
	if len(colls) == 0 {
		return fmt.Errorf("convert-worker: no .bson files under %s", fs.Arg(0))
	}
	cpu0 := selfCPU()
	start := time.Now()
	var in, out atomic.Int64
	err = pullEach(*workers, len(colls), func() (func(int) error, func(), error) {
		var js []byte
		var n int64
		do := func(i int) error {
			p := colls[i]
			meta, err := os.ReadFile(strings.TrimSuffix(p, ".bson") + ".metadata.json")
			if err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			if !json.Valid(meta) {
				return fmt.Errorf("convert: %s.metadata.json is not JSON", strings.TrimSuffix(filepath.Base(p), ".bson"))
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("convert: %w", err)
			}
			for off := 0; off < len(data); {
				if len(data)-off < 5 {
					return fmt.Errorf("convert: %s: truncated document at %d", p, off)
				}
				size := int(binary.LittleEndian.Uint32(data[off:]))
				if size < 5 || off+size > len(data) {
					return fmt.Errorf("convert: %s: bad document length at %d", p, off)
				}
				if js, err = ejson.AppendDocument(js[:0], data[off:off+size]); err != nil {
					return fmt.Errorf("convert: %s at %d: %w", p, off, err)
				}
				n += int64(len(js)) + 1 // and its newline
				off += size
			}
			in.Add(int64(len(data)))
			return nil
		}
		return do, func() { out.Add(n) }, nil
	})
	elapsed := time.Since(start)
	cpu := selfCPU() - cpu0
	if err != nil {
		return err
	}
	hwm, err := vmHWM(os.Getpid())
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(limitReport{Seconds: elapsed.Seconds(), In: in.Load(), Out: out.Load(), Workers: *workers, HWM: hwm, CPU: cpu.Seconds()})
}
