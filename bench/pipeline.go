package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/snapex/snapex/internal/snapshot"
)

// pipelineJob is what the pipeline worker reads on stdin.
type pipelineJob struct {
	Bsondump   string      `json:"bsondump"`
	Compressor []string    `json:"compressor"`
	Files      [][2]string `json:"files"` // source BSON, destination .json.gz
}

// pipelineReport is what the pipeline worker prints on stdout.
type pipelineReport struct {
	Seconds float64 `json:"seconds"`
	MaxRSS  int64   `json:"maxRSS"`  // largest maxrss of the pipeline processes
	CPU     float64 `json:"cpu"`     // user + system seconds of the pipeline processes
	SelfHWM int64   `json:"selfHWM"` // the worker's own VmHWM
}

// runPipeline runs `bsondump FILE | COMPRESSOR > OUT` for every collection,
// one after another, as a user without snapex would, and returns the total
// wall time and the largest peak RSS of any process of the pipelines.
//
// The pipelines are started by a child process (this program with the
// pipeline-worker command), not by the harness: Go starts programs with
// vfork, and Linux then counts the starting process's peak RSS into the
// child's maxrss, so children of a small process report their own peaks.
func runPipeline(self, bsondump string, compressor []string, info *datasetInfo, outDir string) (result, error) {
	if err := discard(outDir); err != nil {
		return result{}, err
	}
	job := pipelineJob{Bsondump: bsondump, Compressor: compressor}
	for _, c := range info.Collections {
		dst := filepath.Join(outDir, c.DB, snapshot.EscapeCollectionName(c.Name)+".json.gz")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return result{}, fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
		}
		job.Files = append(job.Files, [2]string{info.BSONFile(c), dst})
	}
	in, err := json.Marshal(job)
	if err != nil {
		return result{}, fmt.Errorf("encode pipeline job: %w", err)
	}
	cmd := exec.Command(self, "pipeline-worker")
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(in), &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Run(); err != nil {
		return result{}, fmt.Errorf("pipeline worker: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	var rep pipelineReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		return result{}, fmt.Errorf("pipeline worker output %q: %w", stdout.String(), err)
	}
	res := result{Wall: seconds(rep.Seconds), RSS: rep.MaxRSS, CPU: seconds(rep.CPU)}
	if rep.MaxRSS <= rep.SelfHWM {
		res.Note = "the peak RSS shown is an upper bound: no pipeline process exceeded the launching process's own peak, which Linux counts into a vforked child's maxrss"
	}
	return res, nil
}

// pipelineWorkerMain is the pipeline-worker command: it runs the pipelines
// of a pipelineJob read from stdin and prints a pipelineReport.
func pipelineWorkerMain() error {
	var job pipelineJob
	if err := json.NewDecoder(os.Stdin).Decode(&job); err != nil {
		return fmt.Errorf("read job: %w", err)
	}
	if len(job.Compressor) == 0 {
		return fmt.Errorf("job has no compressor")
	}
	var rep pipelineReport
	start := time.Now()
	for _, f := range job.Files {
		rss, cpu, err := pipeOne(job.Bsondump, job.Compressor, f[0], f[1])
		if err != nil {
			return err
		}
		rep.MaxRSS = max(rep.MaxRSS, rss)
		rep.CPU += cpu.Seconds()
	}
	rep.Seconds = time.Since(start).Seconds()
	hwm, err := vmHWM(os.Getpid())
	if err != nil {
		return err
	}
	rep.SelfHWM = hwm
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// pipeOne runs one `bsondump src | compressor > dst` and returns the
// larger maxrss and the CPU time of the two processes.
func pipeOne(bsondump string, compressor []string, src, dst string) (int64, time.Duration, error) {
	out, err := os.Create(dst)
	if err != nil {
		return 0, 0, fmt.Errorf("pipeline: %w", err)
	}
	defer out.Close()
	pr, pw, err := os.Pipe()
	if err != nil {
		return 0, 0, fmt.Errorf("pipeline: %w", err)
	}
	var dumpErr, compErr bytes.Buffer
	dump := exec.Command(bsondump, src)
	dump.Stdout, dump.Stderr = pw, &dumpErr
	comp := exec.Command(compressor[0], compressor[1:]...)
	comp.Stdin, comp.Stdout, comp.Stderr = pr, out, &compErr
	for _, c := range []*exec.Cmd{dump, comp} {
		c.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	if err := comp.Start(); err != nil {
		pr.Close()
		pw.Close()
		return 0, 0, fmt.Errorf("start %s: %w", compressor[0], err)
	}
	pr.Close()
	if err := dump.Start(); err != nil {
		pw.Close()
		_ = comp.Wait()
		return 0, 0, fmt.Errorf("start bsondump: %w", err)
	}
	pw.Close()
	derr := dump.Wait()
	cerr := comp.Wait()
	if derr != nil {
		return 0, 0, fmt.Errorf("bsondump %s: %w: %s", src, derr, strings.TrimSpace(dumpErr.String()))
	}
	if cerr != nil {
		return 0, 0, fmt.Errorf("%s for %s: %w: %s", strings.Join(compressor, " "), src, cerr, strings.TrimSpace(compErr.String()))
	}
	cpu := dump.ProcessState.UserTime() + dump.ProcessState.SystemTime() + comp.ProcessState.UserTime() + comp.ProcessState.SystemTime()
	return max(maxRSS(dump.ProcessState), maxRSS(comp.ProcessState)), cpu, nil
}
