package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

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
	workers, dir, err := dirWorkerArgs("convert-worker", args)
	if err != nil {
		return err
	}
	paths, _, err := fileTree(dir)
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
		return fmt.Errorf("convert-worker: no .bson files under %s", dir)
	}
	clock := startClock()
	var in, out atomic.Int64
	err = pullEach(workers, len(colls), func() (func(int) error, func(), error) {
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
			err = forEachDoc(bytes.NewReader(data), func(doc []byte) error {
				var err error
				if js, err = ejson.AppendDocument(js[:0], doc); err != nil {
					return err
				}
				n += int64(len(js)) + 1 // and its newline
				return nil
			})
			if err != nil {
				return fmt.Errorf("convert %s: %w", p, err)
			}
			in.Add(int64(len(data)))
			return nil
		}
		return do, func() { out.Add(n) }, nil
	})
	if err != nil {
		return err
	}
	return clock.report(in.Load(), out.Load(), workers)
}
