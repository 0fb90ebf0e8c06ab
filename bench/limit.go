package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"golang.org/x/sync/errgroup"
)

// limitUnit is the largest piece of one file a limit worker compresses as
// one gzip stream, so that a single large collection still keeps every
// core busy (as a block-parallel exporter can).
const limitUnit = 8 << 20

// limitReport is what the limit worker prints on stdout.
type limitReport struct {
	Seconds float64 `json:"seconds"`
	In      int64   `json:"in"`
	Out     int64   `json:"out"`
	Workers int     `json:"workers"`
	HWM     int64   `json:"hwm"` // the worker's VmHWM at the end
	CPU     float64 `json:"cpu"` // user + system seconds spent compressing
}

// runLimit measures the compression-only limit over the Extended JSON of a
// dataset in a child process (this program with the limit-worker command),
// which reports its own wall time and VmHWM (its wait4 maxrss would also
// count the harness's peak, see runPipeline).
func runLimit(self string, info *datasetInfo) (result, error) {
	rep, err := runWorker(self, "limit-worker", info.EJSONDir())
	if err != nil {
		return result{}, err
	}
	return result{
		Wall:     seconds(rep.Seconds),
		RSS:      rep.HWM,
		CPU:      seconds(rep.CPU),
		OutBytes: rep.Out,
	}, nil
}

// runWorker runs this program's worker command in a child process and
// decodes the limitReport it prints.
func runWorker(self, command string, args ...string) (limitReport, error) {
	cmd := exec.Command(self, append([]string{command}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return limitReport{}, fmt.Errorf("%s: %w: %s", command, err, stderr.String())
	}
	var rep limitReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return limitReport{}, fmt.Errorf("%s output %q: %w", command, stdout.String(), err)
	}
	return rep, nil
}

// maxRSS is a finished process's peak resident set size in bytes.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss << 10 // Linux reports KiB
	}
	return 0
}

// limitWorkerMain is the limit-worker command: klauspost gzip level 1 of
// every file under a directory, one goroutine per core, output discarded.
// It prints a limitReport.
func limitWorkerMain(args []string) error {
	workers, dir, err := dirWorkerArgs("limit-worker", args)
	if err != nil {
		return err
	}
	paths, sizes, err := fileTree(dir)
	if err != nil {
		return err
	}
	type unit struct {
		path     string
		off, len int64
	}
	var units []unit
	for i, p := range paths {
		for off := int64(0); off < sizes[i] || off == 0; off += limitUnit {
			units = append(units, unit{p, off, min(limitUnit, sizes[i]-off)})
			if sizes[i] == 0 {
				break
			}
		}
	}
	// Largest pieces first, so the last ones to finish are small.
	sort.SliceStable(units, func(a, b int) bool { return units[a].len > units[b].len })

	clock := startClock()
	var in, out atomic.Int64
	err = pullEach(workers, len(units), func() (func(int) error, func(), error) {
		buf := make([]byte, limitUnit)
		cw := &countWriter{}
		zw, err := gzip.NewWriterLevel(cw, gzip.BestSpeed)
		if err != nil {
			return nil, nil, fmt.Errorf("gzip writer: %w", err)
		}
		do := func(i int) error {
			u := units[i]
			if err := compressUnit(zw, cw, buf[:u.len], u.path, u.off); err != nil {
				return err
			}
			in.Add(u.len)
			return nil
		}
		return do, func() { out.Add(cw.n) }, nil
	})
	if err != nil {
		return err
	}
	return clock.report(in.Load(), out.Load(), workers)
}

// dirWorkerArgs parses the arguments of a worker command taking
// [-workers N] DIR (N defaults to one per core).
func dirWorkerArgs(command string, args []string) (workers int, dir string, err error) {
	fs := flag.NewFlagSet(command, flag.ContinueOnError)
	n := fs.Int("workers", runtime.NumCPU(), "goroutines")
	if err := fs.Parse(args); err != nil {
		return 0, "", err
	}
	if fs.NArg() != 1 {
		return 0, "", fmt.Errorf("usage: %s [-workers N] DIR", command)
	}
	return *n, fs.Arg(0), nil
}

// workerClock times the measured part of a worker command.
type workerClock struct {
	start time.Time
	cpu0  time.Duration
}

// startClock starts timing: wall time and this process's CPU time.
func startClock() workerClock { return workerClock{start: time.Now(), cpu0: selfCPU()} }

// report prints, on stdout, the limitReport of the part measured since
// startClock, with the process's VmHWM.
func (c workerClock) report(in, out int64, workers int) error {
	elapsed, cpu := time.Since(c.start), selfCPU()-c.cpu0
	hwm, err := vmHWM(os.Getpid())
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(limitReport{Seconds: elapsed.Seconds(), In: in, Out: out, Workers: workers, HWM: hwm, CPU: cpu.Seconds()})
}

// compressUnit reads len(buf) bytes of path at off and compresses them as
// one gzip stream into zw's destination.
func compressUnit(zw *gzip.Writer, dst io.Writer, buf []byte, path string, off int64) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("limit: %w", err)
	}
	_, err = f.ReadAt(buf, off)
	f.Close()
	if err != nil && err != io.EOF {
		return fmt.Errorf("limit: read %s: %w", path, err)
	}
	zw.Reset(dst)
	if _, err := zw.Write(buf); err != nil {
		return fmt.Errorf("limit: compress %s: %w", path, err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("limit: compress %s: %w", path, err)
	}
	return nil
}

// countWriter discards what it is given and counts it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// selfCPU is this process's user + system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// seconds converts a float number of seconds.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// pullEach runs workers goroutines that take the indices 0..n-1 in turn,
// each calling the work function that start gave it (and its done
// function, when not nil, after its last index); it returns the first
// error, after which no goroutine takes another index.
func pullEach(workers, n int, start func() (work func(int) error, done func(), err error)) error {
	var next atomic.Int64
	var failed atomic.Bool
	var g errgroup.Group
	for range workers {
		g.Go(func() error {
			work, done, err := start()
			if err != nil {
				failed.Store(true)
				return err
			}
			if done != nil {
				defer done()
			}
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := work(i); err != nil {
					failed.Store(true)
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}
