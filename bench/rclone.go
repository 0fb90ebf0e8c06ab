package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rcloneSource writes, once per dataset, the files an export of it
// consists of (the floor's: each collection's data file gzip-compressed at
// level 1 and its metadata.json, under an export-deep prefix) to a
// directory under work, for the uploader contender to move.
func rcloneSource(work string, info *datasetInfo) (string, error) {
	dir := filepath.Join(work, "upload-src", filepath.Base(info.dir))
	ready := filepath.Join(dir, ".ready")
	if _, err := os.Stat(ready); err == nil {
		return dir, nil
	}
	if err := discard(dir); err != nil {
		return "", err
	}
	colls, err := loadFloorCollections(info)
	if err != nil {
		return "", err
	}
	if err := makeFloorParents(dir, colls); err != nil {
		return "", err
	}
	for _, c := range colls {
		if _, err := c.write(dir, nil); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(ready, nil, 0o644); err != nil {
		return "", fmt.Errorf("upload source: %w", err)
	}
	return dir, nil
}

// runRclone measures `rclone copy` of src into a fresh versitygw bucket
// through endpoint with transfers uploads in flight. rclone is configured
// by environment variables only (an S3 remote named bench); --no-traverse
// and --no-check-dest skip listing and HEADs of the empty destination, so
// what is timed is the uploads.
func runRclone(self, bin, src string, vg *versity, endpoint string, transfers int, verify bool) (result, error) {
	bucket := "bench-rclone-" + strings.ToLower(randomHex(4))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	err := vg.createBucket(ctx, bucket)
	cancel()
	if err != nil {
		return result{}, err
	}
	defer discard(filepath.Join(vg.dir, bucket))
	for k, v := range map[string]string{
		"RCLONE_CONFIG_BENCH_TYPE":              "s3",
		"RCLONE_CONFIG_BENCH_PROVIDER":          "Other",
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID":     vg.AccessKey,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": vg.SecretKey,
		"RCLONE_CONFIG_BENCH_ENDPOINT":          endpoint,
		"RCLONE_CONFIG_BENCH_REGION":            "us-east-1",
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE":  "true",
	} {
		os.Setenv(k, v)
	}
	n := strconv.Itoa(transfers)
	rep, err := runWorker(self, "exec-worker", bin, "copy", src, "bench:"+bucket,
		"--transfers", n, "--checkers", n, "--no-traverse", "--no-check-dest", "--s3-no-check-bucket",
		"--exclude", ".ready", "--config", "/dev/null", "-q")
	if err != nil {
		return result{}, err
	}
	res := result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}
	if res.OutBytes, err = outputBytes(filepath.Join(vg.dir, bucket)); err != nil {
		return result{}, err
	}
	if verify {
		want, _, err := fileTree(src)
		if err != nil {
			return result{}, err
		}
		got, _, err := fileTree(filepath.Join(vg.dir, bucket))
		if err != nil {
			return result{}, err
		}
		if len(got) != len(want)-1 { // .ready stays behind
			return result{}, fmt.Errorf("rclone: %d objects in the bucket, want %d", len(got), len(want)-1)
		}
	}
	return res, nil
}

// execWorkerMain is the exec-worker command: it runs a program and prints
// a limitReport of its wall time, peak RSS (wait4 maxrss: this small
// process's own peak is counted in, so it is an upper bound by a few MiB)
// and CPU time.
func execWorkerMain(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: exec-worker PROGRAM [ARG...]")
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	// rclone refuses to start when AWS_CA_BUNDLE is set (its HTTP
	// transport cannot take a custom bundle); the endpoint is plain HTTP.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_CA_BUNDLE=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", args[0], err)
	}
	wall := time.Since(start)
	ps := cmd.ProcessState
	return json.NewEncoder(os.Stdout).Encode(limitReport{Seconds: wall.Seconds(), HWM: maxRSS(ps), CPU: (ps.UserTime() + ps.SystemTime()).Seconds()})
}
