package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/icholy/digest"
	"github.com/klauspost/compress/gzip"
)

// Fixed ids of the harness's snapex configuration.
const (
	benchOrg     = "6a0000000000000000000001"
	benchProject = "6a0000000000000000000002"
	localRole    = "6a0000000000000000000003"
	s3Role       = "6a0000000000000000000004"
	benchCluster = "Bench0"
	benchPubKey  = "benchkey"

	bucketsAccept = "application/vnd.atlas.2024-05-30+json"
	exportsAccept = "application/vnd.atlas.2023-01-01+json"
)

// snapexEnv is the snapex installation the harness drives: a built binary,
// a config file and its state directory.
type snapexEnv struct {
	bin, dir, cfg string
	env           []string // secrets referenced by the config
	privKey       string
	s3            *versity // nil when the S3 contender is not run
	// roles are the access roles of the S3 destinations by name: "s3"
	// (versitygw itself) and "s3@<latency>" (through a delay proxy).
	roles map[string]string
	cfgGz string // config importing into gzip snapshot storage
	seq   int
}

// newSnapexEnv writes a fresh config (and state directory) under dir.
// delayed maps a latency's name ("20ms") to the delay proxy's endpoint in
// front of s3; each gets an access role of its own.
func newSnapexEnv(bin, dir string, s3 *versity, delayed map[string]string, chunkMiB, parallelism int) (*snapexEnv, error) {
	if err := discard(dir); err != nil {
		return nil, fmt.Errorf("clear snapex state %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "buckets"), 0o755); err != nil {
		return nil, fmt.Errorf("snapex state: %w", err)
	}
	e := &snapexEnv{bin: bin, dir: dir, cfg: filepath.Join(dir, "snapex.yaml"), s3: s3, roles: map[string]string{"s3": s3Role}}
	e.privKey = fmt.Sprintf("%s-%s-4%s-8%s-%s", randomHex(4), randomHex(2), randomHex(2)[1:], randomHex(2)[1:], randomHex(6))
	e.env = []string{"BENCH_API_KEY=" + e.privKey}
	s3Block := ""
	if s3 != nil {
		e.env = append(e.env, "BENCH_S3_ACCESS_KEY="+s3.AccessKey, "BENCH_S3_SECRET_KEY="+s3.SecretKey)
		s3Block = fmt.Sprintf(`
          - id: %s
            provider: AWS
            aws: {accessKeyId: env:BENCH_S3_ACCESS_KEY, secretAccessKey: env:BENCH_S3_SECRET_KEY, endpoint: %s, usePathStyle: true, region: us-east-1}`,
			s3Role, s3.Endpoint)
		for i, name := range slices.Sorted(maps.Keys(delayed)) {
			role := fmt.Sprintf("6a00000000000000000001%02x", i)
			e.roles["s3@"+name] = role
			s3Block += fmt.Sprintf(`
          - id: %s
            provider: AWS
            aws: {accessKeyId: env:BENCH_S3_ACCESS_KEY, secretAccessKey: env:BENCH_S3_SECRET_KEY, endpoint: %s, usePathStyle: true, region: us-east-1}`,
				role, delayed[name])
		}
	}
	// Uncompressed dumps are imported into plain .bson snapshot storage,
	// so snapex reads the same bytes the other contenders read; the gzip
	// variant is imported into gzip storage through a second config file
	// (the same database and storage; the reader tells the formats apart).
	cfg := fmt.Sprintf(`# written by the snapex bench harness
database: snapex.db
dataDir: .
snapshots: {uncompressed: true}
exports: {chunkMiB: %d, parallelism: %d}
organizations:
  - id: %s
    name: Bench
    projects:
      - id: %s
        name: Bench
        clusters:
          - name: %s
            mongoDBVersion: 7.0.14
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:1"}]
        accessRoles:
          - {id: %s, provider: AWS, local: {directory: buckets}}%s
apiKeys:
  - publicKey: %s
    privateKey: env:BENCH_API_KEY
    roles: [{role: GROUP_OWNER, groupId: %s}]
`, chunkMiB, parallelism, benchOrg, benchProject, benchCluster, localRole, s3Block, benchPubKey, benchProject)
	if err := os.WriteFile(e.cfg, []byte(cfg), 0o600); err != nil {
		return nil, fmt.Errorf("write snapex config: %w", err)
	}
	e.cfgGz = filepath.Join(dir, "snapex-gzip.yaml")
	if err := os.WriteFile(e.cfgGz, []byte(strings.Replace(cfg, "snapshots: {uncompressed: true}\n", "", 1)), 0o600); err != nil {
		return nil, fmt.Errorf("write snapex config: %w", err)
	}
	return e, nil
}

// importDataset runs `snapex snapshot import` and returns the snapshot id.
func (e *snapexEnv) importDataset(info *datasetInfo) (string, time.Duration, error) {
	start := time.Now()
	cfg := e.cfg
	if info.Gzip {
		cfg = e.cfgGz
	}
	cmd := exec.Command(e.bin, "snapshot", "import", "--config", cfg, "--project", benchProject, "--cluster", benchCluster, info.DumpDir())
	cmd.Env = append(os.Environ(), e.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", 0, fmt.Errorf("snapex snapshot import %s: %w: %s", info.DumpDir(), err, strings.TrimSpace(stderr.String()))
	}
	id := strings.TrimSpace(stdout.String())
	if id == "" {
		return "", 0, fmt.Errorf("snapex snapshot import printed no id: %s", stderr.String())
	}
	return id, time.Since(start), nil
}

// apiClient calls the snapex API with Digest auth.
type apiClient struct {
	base string
	hc   *http.Client
}

func (c *apiClient) do(method, path, accept string, body any, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", accept)
	if body != nil {
		req.Header.Set("Content-Type", accept)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read body: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: decode %q: %w", method, path, b, err)
	}
	return nil
}

// exportJob is the part of DiskBackupExportJob the harness reads.
type exportJob struct {
	ID          string          `json:"id"`
	State       string          `json:"state"`
	Prefix      string          `json:"prefix"`
	StateReason json.RawMessage `json:"stateReason"`
}

// exportRun varies an export the harness measures.
type exportRun struct {
	// format is the snapexOptions format ("" for the default Extended
	// JSON export, "parquet").
	format string
	// keep leaves the export's files in place; exportDir is then set to
	// the directory holding its .complete.
	keep      bool
	exportDir string
}

// runSnapex measures one export of snapshot snapID to a fresh bucket of
// the local-directory driver (dest "local") or versitygw (dest "s3"), with
// a fresh server so VmHWM is this run's peak.
func (e *snapexEnv) runSnapex(dest, snapID string, info *datasetInfo, verify bool) (result, error) {
	return e.runExport(dest, snapID, info, verify, &exportRun{})
}

// runExport is runSnapex varied by x.
func (e *snapexEnv) runExport(dest, snapID string, info *datasetInfo, verify bool, x *exportRun) (result, error) {
	e.seq++
	bucket := fmt.Sprintf("bench-%s-%d-%s", strings.ReplaceAll(dest, "@", "-"), e.seq, strings.ToLower(randomHex(3)))
	role, outDir := localRole, filepath.Join(e.dir, "buckets", bucket)
	if dest != "local" {
		role, outDir = e.roles[dest], filepath.Join(e.s3.dir, bucket)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := e.s3.createBucket(ctx, bucket)
		cancel()
		if err != nil {
			return result{}, err
		}
	}
	if !x.keep {
		defer discard(outDir)
	}

	p, base, err := startSnapex(e.bin, e.cfg, e.env)
	if err != nil {
		return result{}, err
	}
	defer p.stop(30 * time.Second)
	c := &apiClient{base: base, hc: &http.Client{Transport: &digest.Transport{Username: benchPubKey, Password: e.privKey}}}
	group := "/api/atlas/v2/groups/" + benchProject
	var b struct {
		ID string `json:"_id"`
	}
	if err := c.do("POST", group+"/backup/exportBuckets", bucketsAccept,
		map[string]any{"cloudProvider": "AWS", "bucketName": bucket, "iamRoleId": role}, &b); err != nil {
		return result{}, fmt.Errorf("create export bucket: %w", err)
	}

	exports := group + "/clusters/" + benchCluster + "/backup/exports"
	cpu0, err := procCPU(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	start := time.Now()
	var job exportJob
	body := map[string]any{"snapshotId": snapID, "exportBucketId": b.ID}
	if x.format != "" {
		body["snapexOptions"] = map[string]any{"format": x.format}
	}
	if err := c.do("POST", exports, exportsAccept, body, &job); err != nil {
		return result{}, fmt.Errorf("create export job: %w", err)
	}
	deadline := start.Add(2 * time.Hour)
	for job.State != "Successful" {
		switch job.State {
		case "Failed", "Cancelled":
			return result{}, fmt.Errorf("export %s ended %s: %s; server output:\n%s", job.ID, job.State, job.StateReason, p.out)
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("export %s still %s after 2h", job.ID, job.State)
		}
		time.Sleep(50 * time.Millisecond)
		if err := c.do("GET", exports+"/"+job.ID, exportsAccept, nil, &job); err != nil {
			out := p.out.String()
			return result{}, fmt.Errorf("poll export: %w; server output:\n%s", err, out[max(0, len(out)-8<<10):])
		}
	}
	wall := time.Since(start)
	rss, err := vmHWM(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	cpu1, err := procCPU(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	res := result{Wall: wall, RSS: rss, CPU: cpu1 - cpu0}
	if in := exportNote(p.out.String()); in != "" {
		logf("snapex %s: %s", dest, in)
		if info.Name == dsTiny {
			res.Note = in
		}
	}
	if res.OutBytes, err = outputBytes(outDir); err != nil {
		return result{}, err
	}
	if _, err := os.Stat(filepath.Join(outDir, filepath.FromSlash(job.Prefix), ".complete")); err != nil {
		return result{}, fmt.Errorf("export %s is Successful but has no .complete: %w", job.ID, err)
	}
	x.exportDir = filepath.Join(outDir, filepath.FromSlash(job.Prefix))
	// Parquet files hold no lines to count; their .complete is checked.
	if verify && x.format == "" {
		if err := verifyLines(outDir, info.Documents); err != nil {
			return result{}, fmt.Errorf("snapex %s export: %w", dest, err)
		}
	}
	return res, nil
}

// outputBytes is the size of the files under dir (hidden directories such
// as in-progress uploads left out).
func outputBytes(dir string) (int64, error) {
	_, sizes, err := fileTree(dir)
	var n int64
	for _, s := range sizes {
		n += s
	}
	return n, err
}

// verifyLines checks that the *.json.gz files under dir hold want lines in
// total (one document per line).
func verifyLines(dir string, want int64) error {
	paths, _, err := fileTree(dir)
	if err != nil {
		return err
	}
	var lines int64
	var zr *gzip.Reader
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		if !strings.HasSuffix(p, ".json.gz") {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("verify: %w", err)
		}
		br := bufio.NewReaderSize(f, 1<<20)
		if zr == nil {
			zr, err = gzip.NewReader(br)
		} else {
			err = zr.Reset(br)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("verify %s: %w", p, err)
		}
		for {
			n, err := zr.Read(buf)
			lines += int64(bytes.Count(buf[:n], []byte{'\n'}))
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return fmt.Errorf("verify %s: %w", p, err)
			}
		}
		f.Close()
	}
	if lines != want {
		return fmt.Errorf("verify: %d document lines in the output, want %d", lines, want)
	}
	return nil
}

// exportNote reads, from the server's log, how many small collections
// the export kept in flight with the store latency and encode time that
// sized it ("small collections in flight"), and how long each phase of the
// export took ("export phases").
func exportNote(out string) string {
	var parts []string
	for _, line := range strings.Split(out, "\n") {
		var rec struct {
			Msg        string      `json:"msg"`
			Highest    int         `json:"highest"`
			Shortest   logDuration `json:"shortestWrite"`
			MeanWrite  logDuration `json:"meanWrite"`
			MeanEncode logDuration `json:"meanEncode"`
			Setup      logDuration `json:"setup"`
			Data       logDuration `json:"data"`
			Metadata   logDuration `json:"metadata"`
			Finish     logDuration `json:"finish"`
		}
		if json.Unmarshal([]byte(line), &rec) != nil {
			continue
		}
		round := func(d logDuration) time.Duration { return time.Duration(d).Round(time.Millisecond) }
		switch rec.Msg {
		case "small collections in flight":
			parts = append(parts, fmt.Sprintf("up to %d small collections in flight (single-request writes: shortest %s, mean %s; mean encode of a small block %s)", rec.Highest, time.Duration(rec.Shortest).Round(10*time.Microsecond), time.Duration(rec.MeanWrite).Round(10*time.Microsecond), time.Duration(rec.MeanEncode).Round(time.Microsecond)))
		case "export phases":
			parts = append(parts, fmt.Sprintf("phases: setup %s, data files %s, metadata.json %s, finish %s", round(rec.Setup), round(rec.Data), round(rec.Metadata), round(rec.Finish)))
		}
	}
	return strings.Join(parts, "; ")
}

// logDuration reads a duration as slog's JSON handler writes it: a
// string such as "21.25ms" (or a number of nanoseconds).
type logDuration time.Duration

func (d *logDuration) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil {
		var ns int64
		if err := json.Unmarshal(b, &ns); err != nil {
			return err
		}
		*d = logDuration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	*d = logDuration(v)
	return err
}
