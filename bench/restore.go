package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	mopts "go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// Restore contenders (issue 17): the same export, or the equivalent dump,
// loaded into a fresh database of one FerretDB server per dataset. They
// run only when named in -contenders.
const (
	cRestoreSnapex    = "restore-snapex"
	cRestoreImport    = "restore-mongoimport"
	cRestoreImportPar = "restore-mongoimport-par"
	cRestoreDump      = "restore-mongorestore"
	// cRestoreParse is snapex's restore parser alone, into a null sink.
	cRestoreParse = "restore-parse"
)

var restoreContenders = []string{cRestoreSnapex, cRestoreImport, cRestoreImportPar, cRestoreDump, cRestoreParse}

// importParallel is how many data files restore-mongoimport-par loads at
// once (each mongoimport with --numInsertionWorkers 4).
const importParallel = 4

func init() {
	contenderTitles[cRestoreSnapex] = "restore: `snapex restore` of snapex's export"
	contenderTitles[cRestoreImport] = "restore: `gunzip` + `mongoimport` per data file, one at a time"
	contenderTitles[cRestoreImportPar] = fmt.Sprintf("restore: `gunzip` + `mongoimport --numInsertionWorkers 4`, %d files at a time", importParallel)
	contenderTitles[cRestoreDump] = "restore: `mongorestore` of the equivalent dump"
	contenderTitles[cRestoreParse] = "restore: snapex's parser alone (gunzip + Extended JSON → BSON, null sink, all cores)"
}

// isRestore reports whether c is a restore contender.
func isRestore(c string) bool { return strings.HasPrefix(c, "restore-") }

// restoreEnv is what the restore contenders of one dataset share: a
// FerretDB behind the compatibility proxy mongo-tools need, the
// decimal-free dump the server can store, and snapex's export of it.
type restoreEnv struct {
	srv       *ferret
	proxy     *testenv.CompatProxy
	stopProxy func()
	data      *datasetInfo // the decimal-free dataset
	exportDir string       // snapex's export of data (holds .complete)
	jsonDir   string       // where the mongoimport contenders gunzip to
	seq       int
}

func (r *restoreEnv) stop() {
	r.stopProxy()
	r.srv.stop(10 * time.Second)
}

// ferretDataset writes info's dump again without decimal128 values, which
// FerretDB v1 cannot store, under info's directory (untimed setup), and
// returns it as a dataset of its own.
func ferretDataset(info *datasetInfo) (*datasetInfo, error) {
	out := *info
	out.dir = filepath.Join(info.dir, "ferret")
	out.Collections = nil
	out.Documents, out.BSONBytes, out.EJSONBytes = 0, 0, 0
	if err := discard(out.dir); err != nil {
		return nil, err
	}
	for _, c := range info.Collections {
		meta := strings.TrimSuffix(info.BSONFile(c), ".bson") + ".metadata.json"
		dst := out.BSONFile(c)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, fmt.Errorf("ferret dataset: %w", err)
		}
		if b, err := os.ReadFile(meta); err != nil {
			return nil, fmt.Errorf("ferret dataset: %w", err)
		} else if err := os.WriteFile(strings.TrimSuffix(dst, ".bson")+".metadata.json", b, 0o644); err != nil {
			return nil, fmt.Errorf("ferret dataset: %w", err)
		}
		nc, err := rewriteWithoutDecimals(info.BSONFile(c), dst)
		if err != nil {
			return nil, err
		}
		nc.DB, nc.Name = c.DB, c.Name
		out.Collections = append(out.Collections, nc)
		out.Documents += nc.Documents
		out.BSONBytes += nc.BSONBytes
	}
	return &out, nil
}

// rewriteWithoutDecimals copies the BSON file src to dst with every
// document passed through ferretCompatible.
func rewriteWithoutDecimals(src, dst string) (collInfo, error) {
	var c collInfo
	in, err := os.Open(src)
	if err != nil {
		return c, fmt.Errorf("ferret dataset: %w", err)
	}
	defer in.Close()
	f, err := os.Create(dst)
	if err != nil {
		return c, fmt.Errorf("ferret dataset: %w", err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	err = forEachDoc(bufio.NewReaderSize(in, 1<<20), func(doc []byte) error {
		d, err := ferretCompatible(doc)
		if err != nil {
			return err
		}
		b, err := bson.Marshal(d)
		if err != nil {
			return fmt.Errorf("ferret dataset: %w", err)
		}
		c.Documents++
		c.BSONBytes += int64(len(b))
		_, err = bw.Write(b)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c, fmt.Errorf("ferret dataset %s: %w", dst, err)
	}
	return c, nil
}

// setupRestore prepares the restore contenders of one dataset, untimed:
// the decimal-free dump, its snapex import and export, a fresh FerretDB
// and the proxy in front of it.
func setupRestore(sx *snapexEnv, ferretBin, work string, info *datasetInfo) (*restoreEnv, error) {
	data, err := ferretDataset(info)
	if err != nil {
		return nil, err
	}
	id, _, err := sx.importDataset(data)
	if err != nil {
		return nil, err
	}
	x := &exportRun{keep: true}
	if _, err := sx.runExport("local", id, data, true, x); err != nil {
		return nil, fmt.Errorf("export for the restores: %w", err)
	}
	dir := filepath.Join(work, "ferretdb-restore")
	if err := discard(dir); err != nil {
		return nil, err
	}
	srv, err := startFerret(ferretBin, dir)
	if err != nil {
		return nil, err
	}
	proxy, stop, err := testenv.StartCompatProxy(srv.URI)
	if err != nil {
		srv.stop(5 * time.Second)
		return nil, err
	}
	return &restoreEnv{srv: srv, proxy: proxy, stopProxy: stop, data: data, exportDir: x.exportDir,
		jsonDir: filepath.Join(work, "out", "restore-json")}, nil
}

// dataFiles lists the export's data files by collection (dir relative
// to the export: <db>/<collection>).
func (r *restoreEnv) dataFiles() (map[collInfo][]string, error) {
	out := map[collInfo][]string{}
	for _, c := range r.data.Collections {
		matches, err := filepath.Glob(filepath.Join(r.exportDir, c.DB, c.Name, "*.json.gz"))
		if err != nil {
			return nil, fmt.Errorf("export files: %w", err)
		}
		out[c] = matches
	}
	return out, nil
}

// run measures contender c once into a fresh database per source database
// ("r<N>_<db>"), with the server's CPU time, and in the verify round
// checks the documents restored.
func (r *restoreEnv) run(c, self, snapexBin, mongoimport, mongorestore, gzipBin string, verify bool) (result, error) {
	if c == cRestoreParse {
		rep, err := runWorker(self, "parse-worker", r.exportDir)
		if err != nil {
			return result{}, err
		}
		if rep.In != r.data.Documents {
			return result{}, fmt.Errorf("parser read %d documents, want %d", rep.In, r.data.Documents)
		}
		return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}, nil
	}
	r.seq++
	target := func(db string) string { return fmt.Sprintf("r%d_%s", r.seq, db) }
	dbs := map[string]bool{}
	for _, col := range r.data.Collections {
		dbs[col.DB] = true
	}
	var spec procSpec
	switch c {
	case cRestoreSnapex, cRestoreDump:
		var argv []string
		if c == cRestoreSnapex {
			argv = []string{snapexBin, "restore", "--uri", r.proxy.URI}
		} else {
			argv = []string{mongorestore, "--uri", r.proxy.URI, "--quiet", "--numInsertionWorkersPerCollection", "4"}
		}
		for db := range dbs {
			argv = append(argv, "--nsFrom", db+".$c$", "--nsTo", target(db)+".$c$")
		}
		if c == cRestoreSnapex {
			argv = append(argv, r.exportDir)
		} else {
			argv = append(argv, r.data.DumpDir())
		}
		spec = procSpec{Parallel: 1, Jobs: [][]procCmd{{{Argv: argv}}}}
	case cRestoreImport, cRestoreImportPar:
		if err := discard(r.jsonDir); err != nil {
			return result{}, err
		}
		if err := os.MkdirAll(r.jsonDir, 0o755); err != nil {
			return result{}, fmt.Errorf("restore json dir: %w", err)
		}
		defer discard(r.jsonDir)
		files, err := r.dataFiles()
		if err != nil {
			return result{}, err
		}
		spec.Parallel = 1
		extra := []string{}
		if c == cRestoreImportPar {
			spec.Parallel, extra = importParallel, []string{"--numInsertionWorkers", "4"}
		}
		for _, col := range r.data.Collections {
			for i, f := range files[col] {
				js := filepath.Join(r.jsonDir, fmt.Sprintf("%s.%s.%d.json", col.DB, col.Name, i))
				spec.Jobs = append(spec.Jobs, []procCmd{
					{Argv: []string{gzipBin, "-dc", f}, Stdout: js},
					{Argv: append([]string{mongoimport, "--uri", r.proxy.URI, "--db", target(col.DB), "--collection", col.Name,
						"--type", "json", "--file", js, "--quiet"}, extra...)},
				})
			}
		}
	default:
		return result{}, fmt.Errorf("unknown restore contender %q", c)
	}
	b, err := jsonSpec(spec)
	if err != nil {
		return result{}, err
	}
	res, err := withServerCPU(r.srv, func() (result, error) {
		rep, err := runWorker(self, "procs-worker", b)
		if err != nil {
			return result{}, err
		}
		return result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}, nil
	})
	if err != nil || !verify {
		return res, err
	}
	return res, r.count(target)
}

// count checks that the target databases hold every document.
func (r *restoreEnv) count(target func(string) string) error {
	ctx := context.Background()
	client, err := mongo.Connect(mopts.Client().ApplyURI(r.srv.URI))
	if err != nil {
		return fmt.Errorf("connect to ferretdb: %w", err)
	}
	defer client.Disconnect(ctx)
	var n int64
	for _, c := range r.data.Collections {
		k, err := client.Database(target(c.DB)).Collection(c.Name).CountDocuments(ctx, bson.D{})
		if err != nil {
			return fmt.Errorf("count %s.%s: %w", target(c.DB), c.Name, err)
		}
		n += k
	}
	if n != r.data.Documents {
		return fmt.Errorf("verify: %d documents restored, want %d", n, r.data.Documents)
	}
	return nil
}

// procCmd is one program a procs-worker runs, its stdout to a file when
// Stdout is set.
type procCmd struct {
	Argv   []string `json:"argv"`
	Stdout string   `json:"stdout,omitempty"`
}

// procSpec is a procs-worker's work: jobs (each a sequence of commands)
// run Parallel at a time.
type procSpec struct {
	Parallel int         `json:"parallel"`
	Jobs     [][]procCmd `json:"jobs"`
}

// jsonSpec encodes a procs-worker's argument.
func jsonSpec(spec procSpec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("procs spec: %w", err)
	}
	return string(b), nil
}

// procsWorkerMain is the procs-worker command: it runs the jobs of the
// procSpec given as its argument and prints a limitReport of the wall
// time, the largest wait4 maxrss of any process (this small process's own
// peak counted in: an upper bound by a few MiB) and their CPU time.
func procsWorkerMain(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: procs-worker SPEC_JSON")
	}
	var spec procSpec
	if err := json.Unmarshal([]byte(args[0]), &spec); err != nil {
		return fmt.Errorf("spec: %w", err)
	}
	var mu sync.Mutex
	var rep limitReport
	runOne := func(pc procCmd) error {
		cmd := exec.Command(pc.Argv[0], pc.Argv[1:]...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if pc.Stdout != "" {
			f, err := os.Create(pc.Stdout)
			if err != nil {
				return err
			}
			defer f.Close()
			cmd.Stdout = f
		}
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", strings.Join(pc.Argv, " "), err)
		}
		mu.Lock()
		defer mu.Unlock()
		ps := cmd.ProcessState
		rep.HWM = max(rep.HWM, maxRSS(ps))
		rep.CPU += (ps.UserTime() + ps.SystemTime()).Seconds()
		return nil
	}
	start := time.Now()
	err := parallel(len(spec.Jobs), max(spec.Parallel, 1), func(i int) error {
		for _, pc := range spec.Jobs[i] {
			if err := runOne(pc); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	rep.Seconds = time.Since(start).Seconds()
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// parseWorkerMain is the parse-worker command: snapex's restore parser
// (restore.ParseToNull) over every *.json.gz under the export directory,
// one goroutine per core, after gunzip. It prints a limitReport whose In
// is the documents parsed and Out the BSON bytes produced.
func parseWorkerMain(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: parse-worker EXPORT_DIR")
	}
	paths, _, err := fileTree(args[0])
	if err != nil {
		return err
	}
	var files []string
	for _, p := range paths {
		if strings.HasSuffix(p, ".json.gz") {
			files = append(files, p)
		}
	}
	var mu sync.Mutex
	var docs, out int64
	clock := startClock()
	err = parallel(len(files), runtime.NumCPU(), func(i int) error {
		f, err := os.Open(files[i])
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return fmt.Errorf("parse %s: %w", files[i], err)
		}
		d, n, err := restore.ParseToNull(zr)
		if err != nil {
			return fmt.Errorf("parse %s: %w", files[i], err)
		}
		mu.Lock()
		docs, out = docs+d, out+n
		mu.Unlock()
		return nil
	})
	if err != nil {
		return err
	}
	return clock.report(docs, out, runtime.NumCPU())
}
