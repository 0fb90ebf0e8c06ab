package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mopts "go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Capture contenders: snapshots of the same MongoDB-wire server (FerretDB
// with its SQLite backend, the project's test server) holding one
// dataset. They run only when named in -contenders.
const (
	cCapture       = "capture-snapex"      // snapex's default gzip snapshot storage
	cCaptureBSON   = "capture-snapex-bson" // snapex with snapshots.uncompressed
	cMongodump     = "mongodump"
	cMongodumpGz   = "mongodump-gzip"
	cMongodumpGzJ4 = "mongodump-gzip-j4"
)

var captureContenders = []string{cCapture, cCaptureBSON, cMongodump, cMongodumpGz, cMongodumpGzJ4}

func init() {
	contenderTitles[cCapture] = "capture: snapex snapshot over the API (gzip storage, the default)"
	contenderTitles[cCaptureBSON] = "capture: snapex snapshot over the API (`snapshots.uncompressed`)"
	contenderTitles[cMongodump] = "capture: `mongodump`"
	contenderTitles[cMongodumpGz] = "capture: `mongodump --gzip`"
	contenderTitles[cMongodumpGzJ4] = "capture: `mongodump --gzip --numParallelCollections 4`"
}

// isCapture reports whether c is a capture contender.
func isCapture(c string) bool {
	return strings.HasPrefix(c, "capture-") || strings.HasPrefix(c, "mongodump")
}

// ferret is a FerretDB server started by the harness.
type ferret struct {
	*proc
	URI string
}

// startFerret runs the FerretDB runner (scripts/install-test-deps.sh
// builds it into .cache/bin) with its SQLite data in dir.
func startFerret(bin, dir string) (*ferret, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("ferretdb data: %w", err)
	}
	ready := make(chan string, 1)
	var once sync.Once
	cmd := exec.Command(bin, "-listen-addr", "127.0.0.1:0", "-data-dir", dir)
	p, err := startProc("ferretdb", cmd, func(line string) {
		if uri, ok := strings.CutPrefix(line, "FERRETDB_READY "); ok {
			once.Do(func() { ready <- strings.TrimSpace(uri) })
		}
	})
	if err != nil {
		return nil, err
	}
	select {
	case uri := <-ready:
		return &ferret{proc: p, URI: uri}, nil
	case <-p.done:
		return nil, fmt.Errorf("ferretdb exited; output:\n%s", p.out)
	case <-time.After(time.Minute):
		p.stop(time.Second)
		return nil, errors.New("ferretdb printed no ready line within a minute")
	}
}

// loadFerret inserts every collection of the dump into the server, 1,000
// documents per insert (untimed setup).
func loadFerret(uri string, info *datasetInfo) error {
	ctx := context.Background()
	client, err := mongo.Connect(mopts.Client().ApplyURI(uri))
	if err != nil {
		return fmt.Errorf("connect to ferretdb: %w", err)
	}
	defer client.Disconnect(ctx)
	for _, c := range info.Collections {
		f, err := os.Open(info.BSONFile(c))
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		coll := client.Database(c.DB).Collection(c.Name)
		batch := make([]any, 0, 1000)
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			_, err := coll.InsertMany(ctx, batch, mopts.InsertMany().SetOrdered(false))
			batch = batch[:0]
			return err
		}
		err = forEachDoc(bufio.NewReaderSize(f, 1<<20), func(doc []byte) error {
			d, err := ferretCompatible(doc)
			if err != nil {
				return err
			}
			batch = append(batch, d)
			if len(batch) == cap(batch) {
				return flush()
			}
			return nil
		})
		f.Close()
		if err == nil {
			err = flush()
		}
		if err != nil {
			return fmt.Errorf("load %s.%s into ferretdb: %w", c.DB, c.Name, err)
		}
	}
	return nil
}

// withServerCPU runs one capture contender and adds the CPU time the
// server process spent meanwhile.
func withServerCPU(srv *ferret, run func() (result, error)) (result, error) {
	pid := srv.cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		return result{}, err
	}
	res, err := run()
	if err != nil {
		return res, err
	}
	cpu1, err := procCPU(pid)
	if err != nil {
		return result{}, err
	}
	res.ServerCPU = cpu1 - cpu0
	return res, nil
}

// runMongodump measures mongodump of the whole server into a fresh
// directory, in a child process (exec-worker) for its peak RSS.
func runMongodump(self, bin, uri, out string, extra ...string) (result, error) {
	if err := discard(out); err != nil {
		return result{}, err
	}
	defer discard(out)
	args := append([]string{bin, "--uri", uri, "--out", out, "--quiet"}, extra...)
	rep, err := runWorker(self, "exec-worker", args...)
	if err != nil {
		return result{}, err
	}
	res := result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}
	res.OutBytes, err = outputBytes(out)
	return res, err
}

// captureEnv is a snapex configuration whose cluster is the FerretDB
// server: cfg stores snapshots gzip-compressed (the default), cfgBSON
// uncompressed.
func (e *snapexEnv) captureConfigs(uri string) (gz, raw string, err error) {
	dir := filepath.Dir(e.cfg)
	for _, p := range []struct{ src, dst string }{{e.cfgGz, "capture-gzip.yaml"}, {e.cfg, "capture-bson.yaml"}} {
		b, err := os.ReadFile(p.src)
		if err != nil {
			return "", "", fmt.Errorf("capture config: %w", err)
		}
		s := strings.Replace(string(b), `uri: "mongodb://127.0.0.1:1"`, fmt.Sprintf("uri: %q", uri), 1)
		if err := os.WriteFile(filepath.Join(dir, p.dst), []byte(s), 0o600); err != nil {
			return "", "", fmt.Errorf("capture config: %w", err)
		}
	}
	return filepath.Join(dir, "capture-gzip.yaml"), filepath.Join(dir, "capture-bson.yaml"), nil
}

// runCapture measures one snapshot taken through the API: a fresh
// `snapex serve` with config cfg, `POST …/backup/snapshots`, then
// `GET …/snapshots/{id}` every 50 ms until it is completed.
func (e *snapexEnv) runCapture(cfg string) (result, error) {
	p, base, err := startSnapex(e.bin, cfg, e.env)
	if err != nil {
		return result{}, err
	}
	defer p.stop(30 * time.Second)
	c := &apiClient{base: base, hc: &http.Client{Transport: &digest.Transport{Username: benchPubKey, Password: e.privKey}}}
	snaps := "/api/atlas/v2/groups/" + benchProject + "/clusters/" + benchCluster + "/backup/snapshots"
	cpu0, err := procCPU(p.cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	var sn struct {
		ID                  string `json:"id"`
		Status              string `json:"status"`
		StorageSizeBytes    int64  `json:"storageSizeBytes"`
		SnapexFailureReason string `json:"snapexFailureReason"`
	}
	start := time.Now()
	if err := c.do("POST", snaps, exportsAccept, map[string]any{"description": "bench", "retentionInDays": 1}, &sn); err != nil {
		return result{}, fmt.Errorf("take snapshot: %w", err)
	}
	deadline := start.Add(2 * time.Hour)
	for sn.Status != "completed" {
		if sn.Status == "failed" {
			return result{}, fmt.Errorf("snapshot %s failed: %s; server output:\n%s", sn.ID, sn.SnapexFailureReason, p.out)
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("snapshot %s still %s after 2h", sn.ID, sn.Status)
		}
		time.Sleep(50 * time.Millisecond)
		if err := c.do("GET", snaps+"/"+sn.ID, exportsAccept, nil, &sn); err != nil {
			return result{}, fmt.Errorf("poll snapshot: %w", err)
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
	dir := filepath.Join(e.dir, "snapshots", sn.ID)
	out, err := outputBytes(dir)
	if err != nil {
		return result{}, err
	}
	if err := discard(dir); err != nil {
		return result{}, err
	}
	return result{Wall: wall, RSS: rss, CPU: cpu1 - cpu0, OutBytes: out}, nil
}

// captureSection writes the server's share of every capture run and the
// capture target: snapex against the best `mongodump --gzip`.
func (rp *report) captureSection(w func(string, ...any), met func(bool) string) {
	var rows []string
	for _, ds := range rp.Datasets {
		bestGz, bestGzTitle := 0.0, ""
		srvCPU := map[string]time.Duration{}
		for _, c := range rp.Contenders {
			if !isCapture(c) {
				continue
			}
			cl := rp.Cells[ds][c]
			s, ok := rp.stat(ds, c)
			if cl == nil || !ok {
				continue
			}
			sc := serverCPU(cl)
			srvCPU[c] = sc
			rows = append(rows, fmt.Sprintf("| `%s` | %s | %s | %s | %.2f | %.2f |", ds, title(c), secs(s.median), secs(sc),
				sc.Seconds()/s.median.Seconds(), (sc.Seconds()+s.cpu.Seconds())/s.median.Seconds()))
			if (c == cMongodumpGz || c == cMongodumpGzJ4) && (bestGz == 0 || s.median.Seconds() < bestGz) {
				bestGz, bestGzTitle = s.median.Seconds(), title(c)
			}
		}
		if sx, ok := rp.stat(ds, cCapture); ok && bestGz > 0 {
			r := bestGz / sx.median.Seconds()
			rows = append(rows, fmt.Sprintf("| `%s` | **target**: snapex capture (gzip storage) ÷ the faster %s | %.2f× | | goal ≥ 1.5× | %s |", ds, bestGzTitle, r, met(r >= 1.5)))
		}
		// What each capture costs the server: when the server is the
		// bottleneck, this is the speed-up the same server allows.
		if a, b := srvCPU[cCapture], srvCPU[cMongodumpGz]; a > 0 && b > 0 {
			rows = append(rows, fmt.Sprintf("| `%s` | server CPU of `mongodump --gzip` ÷ server CPU of snapex capture (gzip storage) | %.2f× | | — | — |", ds, b.Seconds()/a.Seconds()))
		}
	}
	if len(rows) == 0 {
		return
	}
	w("\n## Snapshot capture (issue 19)\n\n")
	w("Every capture reads the same FerretDB server (SQLite backend, the project's MongoDB-wire test server), loaded with the dataset before the measurement. Server CPU s is the median CPU time (utime + stime from /proc/PID/stat) of the FerretDB process — which embeds its SQLite backend, so this is all of the server — during the run; server cores is that ÷ the wall time (1.00 = one core busy the whole run); server + client cores adds the contender's own CPU time. When the server uses about one core for every contender whatever the client does, the server is the bottleneck and the comparison is of how little the clients add.\n\n")
	w("| dataset | contender | wall median s | server CPU s | server cores | server + client cores |\n|---|---|---:|---:|---:|---:|\n")
	for _, r := range rows {
		w("%s\n", r)
	}
}

// ferretCompatible returns doc without its decimal128 values, which
// FerretDB v1 cannot store (it closes the connection); some of the
// generated documents hold one. Every other value is kept.
func ferretCompatible(doc []byte) (bson.D, error) {
	var d bson.D
	if err := bson.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	return dropDecimals(d), nil
}

func dropDecimals(d bson.D) bson.D {
	out := d[:0]
	for _, e := range d {
		if v, ok := withoutDecimals(e.Value); ok {
			e.Value = v
			out = append(out, e)
		}
	}
	return out
}

// withoutDecimals drops decimal128 values from v, reporting false when v
// is one.
func withoutDecimals(v any) (any, bool) {
	switch x := v.(type) {
	case bson.Decimal128:
		return nil, false
	case bson.D:
		return dropDecimals(x), true
	case bson.A:
		out := x[:0]
		for _, y := range x {
			if y, ok := withoutDecimals(y); ok {
				out = append(out, y)
			}
		}
		return out, true
	}
	return v, true
}
