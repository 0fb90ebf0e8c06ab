// Command bench measures snapex exports against the pipeline a user would
// build without snapex (bsondump | gzip -1, bsondump | pigz) and against
// the compression-only limit, side by side on the same generated data, and
// writes a markdown table of the results.
//
//	go run ./bench [-scale 0.1] [-runs 3] [-datasets …] [-contenders …]
//
// See bench/README.md for what is measured and how.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Contender names, in the order each round runs them.
const (
	cSnapexLocal = "snapex-local"
	cSnapexS3    = "snapex-s3"
	cGzip        = "bsondump-gzip"
	cPigz        = "bsondump-pigz"
	cLimit       = "limit"
	cFiles       = "files"
	// cConvert reads the snapshot's files and converts their documents
	// only: with the limit and the floor, what no export can skip.
	cConvert = "convert"
	cFilesS3 = "files-s3"
	// cRclone is the best-in-class uploader, run only at a latency.
	cRclone = "rclone"
)

var allContenders = []string{cSnapexLocal, cSnapexS3, cGzip, cPigz, cLimit, cConvert, cFiles, cFilesS3}

// contenderTitles are the table labels.
var contenderTitles = map[string]string{
	cSnapexLocal: "snapex → local directory",
	cSnapexS3:    "snapex → S3 (versitygw, loopback)",
	cGzip:        "`bsondump \\| gzip -1`",
	cPigz:        "`bsondump \\| pigz -1 -p 2`",
	cLimit:       "limit: klauspost gzip L1 over ready EJSON, all cores",
	cFiles:       "floor: write the export's directories and files only",
	cConvert:     "read the snapshot's files and convert them to Extended JSON only, all cores",
	cFilesS3:     "floor: PUT the export's objects to versitygw only",
}

// latencyContenders are the contenders run again, as "<name>@<latency>",
// through a delay proxy in front of versitygw for every -latency.
var latencyContenders = []string{cSnapexS3, cFilesS3, cRclone}

// atLatency names contender c run through the delay proxy of latency lat.
func atLatency(c, lat string) string { return c + "@" + lat }

// title is contender c's table label.
func title(c string) string {
	base, lat, ok := strings.Cut(c, "@")
	if !ok {
		return contenderTitles[c]
	}
	switch base {
	case cSnapexS3:
		return fmt.Sprintf("snapex → S3 (versitygw + %s per request)", lat)
	case cFilesS3:
		return fmt.Sprintf("floor: PUT the export's objects only, %d at a time, + %s per request", latencyWorkers, lat)
	case cRclone:
		return fmt.Sprintf("`rclone copy --transfers %d` of the export's files from disk, + %s per request", latencyWorkers, lat)
	}
	return c
}

// latencyWorkers is how many PUTs the floor and rclone keep in flight at
// a latency: the most small collections snapex keeps in flight
// (internal/export's smallInFlightMax), which it reaches at 20 ms and more.
const latencyWorkers = 256

// result is one measured run.
type result struct {
	Wall     time.Duration `json:"wall"`
	RSS      int64         `json:"rss"`      // peak resident set size, bytes
	CPU      time.Duration `json:"cpu"`      // user + system CPU time of the contender's processes
	OutBytes int64         `json:"outBytes"` // compressed output, bytes
	// ServerCPU is the CPU time the database server spent during a
	// capture contender's run.
	ServerCPU time.Duration `json:"serverCPU,omitempty"`
	Note      string        `json:"note,omitempty"`
}

// options are the command-line flags.
type options struct {
	scale       float64
	runs        int
	work        string
	out         string
	datasets    []string
	contenders  []string
	chunkMiB    int
	parallelism int
	verify      bool
	keepOutputs bool     // leave the outputs in the trash
	render      string   // re-render this raw results file instead of measuring
	latencies   []string // -latency, as given ("20ms")
	delays      map[string]time.Duration
	explicitOut string // -out as given
}

// workerCommands are the hidden commands the harness runs itself as, so
// that a child process measures its own wall time and peak RSS.
var workerCommands = map[string]func(args []string) error{
	"limit-worker":    limitWorkerMain,
	"convert-worker":  convertWorkerMain,
	"files-worker":    filesWorkerMain,
	"pipeline-worker": func([]string) error { return pipelineWorkerMain() },
	"exec-worker":     execWorkerMain,
	"procs-worker":    procsWorkerMain,
	"parse-worker":    parseWorkerMain,
}

func main() {
	if len(os.Args) > 1 {
		if worker, ok := workerCommands[os.Args[1]]; ok {
			if err := worker(os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "bench %s: %v\n", os.Args[1], err)
				os.Exit(1)
			}
			return
		}
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s bench: %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func parseFlags(args []string, root string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	o := &options{}
	fs.Float64Var(&o.scale, "scale", 1, "dataset size factor: 1 = 500 MiB datasets and 10,000 tiny collections; 0.1 for a quick run")
	fs.IntVar(&o.runs, "runs", 3, "measured runs of each contender on each dataset (interleaved)")
	fs.StringVar(&o.work, "work", filepath.Join(root, ".cache", "bench"), "work directory: cached datasets, snapex state, outputs")
	fs.StringVar(&o.out, "out", "", "results file (default bench/results.md at -scale 1, bench/results-scale-S.md otherwise)")
	ds := fs.String("datasets", strings.Join(allDatasets, ","), "datasets to measure: "+strings.Join(allDatasets, ","))
	cs := fs.String("contenders", "", "contenders to run (default all but the captures): "+strings.Join(allContenders, ",")+", with -latency L also snapex-s3@L, files-s3@L, rclone@L; the captures (20coll and 1coll only): "+strings.Join(captureContenders, ",")+"; the Parquet exports: "+strings.Join(parquetContenders, ",")+"; the restores (20coll and 1coll only): "+strings.Join(restoreContenders, ","))
	lats := fs.String("latency", "", "comma list of per-request latencies (e.g. 20ms,50ms) to put in front of versitygw; adds the contenders snapex-s3@L, files-s3@L (PUT-only floor) and rclone@L")
	fs.IntVar(&o.chunkMiB, "chunk-mib", 64, "snapex exports.chunkMiB")
	fs.IntVar(&o.parallelism, "parallelism", 2, "snapex exports.parallelism")
	fs.BoolVar(&o.verify, "verify", true, "in the first round, check that every contender's output has one line per document")
	fs.BoolVar(&o.keepOutputs, "keep-outputs", false, "leave the outputs (and an earlier run's) in the work directory's trash instead of deleting them, so that runs in a row need not wait for deletions to stop slowing file creation down (bench/trash.go)")
	fs.StringVar(&o.render, "render", "", "render the table again from a raw results file (results*.json) instead of measuring")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.scale <= 0 || o.scale > 10 {
		return nil, fmt.Errorf("-scale %g: must be in (0, 10]", o.scale)
	}
	if o.runs < 1 {
		return nil, fmt.Errorf("-runs %d: must be at least 1", o.runs)
	}
	var err error
	if o.datasets, err = parseList(*ds, allDatasets, "dataset"); err != nil {
		return nil, err
	}
	known := slices.Concat(allContenders, parquetContenders, captureContenders, restoreContenders)
	o.delays = map[string]time.Duration{}
	for _, l := range strings.Split(*lats, ",") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		d, err := time.ParseDuration(l)
		if err != nil || d <= 0 || d > 10*time.Second {
			return nil, fmt.Errorf("-latency %q: want a duration in (0, 10s], such as 20ms", l)
		}
		o.latencies = append(o.latencies, l)
		o.delays[l] = d
		for _, c := range latencyContenders {
			known = append(known, atLatency(c, l))
		}
	}
	if *cs == "" {
		// Everything but the captures and restores, which need a server
		// loaded, and the Parquet rows of issue 18.
		*cs = strings.Join(slices.DeleteFunc(slices.Clone(known), namedOnly), ",")
	}
	if o.contenders, err = parseList(*cs, known, "contender"); err != nil {
		return nil, err
	}
	o.explicitOut = o.out
	if o.out == "" {
		o.out = filepath.Join(root, "bench", "results.md")
		if o.scale != 1 {
			o.out = filepath.Join(root, "bench", fmt.Sprintf("results-scale-%g.md", o.scale))
		}
	}
	if o.work, err = filepath.Abs(o.work); err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	return o, nil
}

func parseList(s string, known []string, what string) ([]string, error) {
	var out []string
	for _, x := range strings.Split(s, ",") {
		x = strings.TrimSpace(x)
		if x == "" {
			continue
		}
		if !slices.Contains(known, x) {
			return nil, fmt.Errorf("unknown %s %q (known: %s)", what, x, strings.Join(known, ", "))
		}
		out = append(out, x)
	}
	// Keep the canonical order whatever order was given.
	slices.SortFunc(out, func(a, b string) int { return slices.Index(known, a) - slices.Index(known, b) })
	return slices.Compact(out), nil
}

// repoRoot finds the directory whose go.mod declares the snapex module.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/snapex/snapex\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("run the harness inside the snapex repository (no go.mod of github.com/snapex/snapex above the working directory)")
		}
		dir = parent
	}
}

// findTool looks for a program on PATH, then in <repo>/.cache/bin and
// GOPATH/bin.
func findTool(root, name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs := []string{filepath.Join(root, ".cache", "bin")}
	if gp, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, d := range filepath.SplitList(strings.TrimSpace(string(gp))) {
			dirs = append(dirs, filepath.Join(d, "bin"))
		}
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s", name, strings.Join(dirs, ", "))
}

// cell is the measurements of one contender on one dataset.
type cell struct {
	Runs    []result `json:"runs"`
	Skipped string   `json:"skipped,omitempty"` // why the contender did not run, when it did not
}

func run(args []string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	o, err := parseFlags(args, root)
	if err != nil {
		return err
	}
	if o.render != "" {
		return renderSaved(o.render, o.explicitOut)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the harness binary: %w", err)
	}
	if err := os.MkdirAll(o.work, 0o755); err != nil {
		return fmt.Errorf("work directory: %w", err)
	}
	logf("scale %g, %d runs, work directory %s", o.scale, o.runs, o.work)

	// Tools. A missing tool skips its contenders with the reason in the table.
	skip := map[string]string{}
	want := func(c string) bool { return slices.Contains(o.contenders, c) && skip[c] == "" }
	bsondump, err := findTool(root, "bsondump")
	if err != nil {
		skip[cGzip] = err.Error() + " (scripts/install-test-deps.sh builds it)"
		skip[cPigz] = skip[cGzip]
	}
	gzipBin, err := findTool(root, "gzip")
	if err != nil {
		skip[cGzip] = err.Error()
	}
	pigzBin, err := findTool(root, "pigz")
	if err != nil && skip[cPigz] == "" {
		skip[cPigz] = err.Error() + " (apt-get install -y pigz; bench/run.sh does it)"
	}
	usesS3 := func(c string) bool {
		return c == cSnapexS3 || c == cSnapexS3Pq || c == cFilesS3 || strings.Contains(c, "@")
	}
	var versityBin, rcloneBin string
	if slices.ContainsFunc(o.contenders, usesS3) {
		if versityBin, err = findTool(root, "versitygw"); err != nil {
			for _, c := range o.contenders {
				if usesS3(c) {
					skip[c] = err.Error() + " (scripts/install-test-deps.sh installs it)"
				}
			}
		}
	}
	for _, l := range o.latencies {
		if !want(atLatency(cRclone, l)) {
			continue
		}
		if rcloneBin, err = findTool(root, "rclone"); err != nil {
			skip[atLatency(cRclone, l)] = err.Error() + " (apt-get install -y rclone; bench/run.sh does it)"
		}
	}
	var ferretBin, mongodumpBin string
	if slices.ContainsFunc(o.contenders, isCapture) {
		if ferretBin, err = findTool(root, "snapex-ferretdb"); err != nil {
			for _, c := range captureContenders {
				skip[c] = err.Error() + " (scripts/install-test-deps.sh builds it)"
			}
		}
		if mongodumpBin, err = findTool(root, "mongodump"); err != nil {
			for _, c := range []string{cMongodump, cMongodumpGz, cMongodumpGzJ4} {
				skip[c] = err.Error() + " (scripts/install-test-deps.sh builds it)"
			}
		}
	}
	var mongoimportBin, mongorestoreBin string
	if slices.ContainsFunc(o.contenders, isRestore) {
		if ferretBin == "" {
			if ferretBin, err = findTool(root, "snapex-ferretdb"); err != nil {
				for _, c := range restoreContenders {
					skip[c] = err.Error() + " (scripts/install-test-deps.sh builds it)"
				}
			}
		}
		if mongoimportBin, err = findTool(root, "mongoimport"); err != nil {
			skip[cRestoreImport] = err.Error() + " (scripts/install-test-deps.sh builds it)"
			skip[cRestoreImportPar] = skip[cRestoreImport]
		}
		if mongorestoreBin, err = findTool(root, "mongorestore"); err != nil {
			skip[cRestoreDump] = err.Error() + " (scripts/install-test-deps.sh builds it)"
		}
	}
	var nodeBin, duckScript string
	if want(cDIYDuckDBBSON) && bsondump == "" {
		skip[cDIYDuckDBBSON] = skip[cGzip]
	}
	if want(cDIYDuckDB) || want(cDIYDuckDBBSON) {
		if nodeBin, err = findTool(root, "node"); err != nil {
			skip[cDIYDuckDB], skip[cDIYDuckDBBSON] = err.Error(), err.Error()
		} else if _, err := os.Stat(duckdbModule(root)); err != nil {
			skip[cDIYDuckDB] = "DuckDB's Node.js client is not installed: " + err.Error()
			skip[cDIYDuckDBBSON] = skip[cDIYDuckDB]
		} else {
			duckScript = filepath.Join(o.work, "bin", "diy-duckdb.cjs")
			if err := os.MkdirAll(filepath.Dir(duckScript), 0o755); err != nil {
				return fmt.Errorf("duckdb script: %w", err)
			}
			if err := os.WriteFile(duckScript, []byte(duckdbScript), 0o644); err != nil {
				return fmt.Errorf("duckdb script: %w", err)
			}
		}
	}
	wantS3 := slices.ContainsFunc(o.contenders, func(c string) bool { return usesS3(c) && want(c) })

	// From here on, deletions are recorded (see bench/trash.go).
	if err := initTrash(o.work, o.keepOutputs); err != nil {
		return err
	}
	// Datasets (cached) and, for the limit, their Extended JSON.
	infos := map[string]*datasetInfo{}
	for _, name := range o.datasets {
		info, err := ensureDataset(o.work, name, o.scale, logf)
		if err != nil {
			return err
		}
		infos[name] = info
		if (want(cLimit) || want(cFiles) || want(cDIYDuckDB) || slices.ContainsFunc(o.contenders, func(c string) bool { return strings.HasPrefix(c, cFilesS3) || strings.HasPrefix(c, cRclone) })) && name != dsTwentyGz {
			if err := ensureEJSON(info, logf); err != nil {
				return err
			}
		}
	}

	// snapex: build, start versitygw, import each dataset once.
	var sx *snapexEnv
	snapIDs := map[string]string{}
	imports := map[string]time.Duration{}
	var vg *versity
	delayed := map[string]string{} // latency → delay proxy endpoint
	if wantS3 {
		s3dir := filepath.Join(o.work, "versitygw")
		if err := discard(s3dir); err != nil {
			return fmt.Errorf("clear %s: %w", s3dir, err)
		}
		if vg, err = startVersity(versityBin, s3dir); err != nil {
			return err
		}
		defer vg.stop()
		logf("versitygw serving on %s", vg.Endpoint)
		for _, l := range o.latencies {
			p, err := startDelayProxy(vg.Endpoint, o.delays[l])
			if err != nil {
				return err
			}
			defer p.stop()
			delayed[l] = p.URL
			logf("versitygw + %s per request on %s", l, p.URL)
		}
	}
	// endpointOf is the S3 endpoint contender c uses.
	endpointOf := func(c string) string {
		if _, lat, ok := strings.Cut(c, "@"); ok {
			return delayed[lat]
		}
		return vg.Endpoint
	}
	if slices.ContainsFunc(o.contenders, func(c string) bool {
		return (strings.HasPrefix(c, "snapex") || strings.HasPrefix(c, "capture-") || isRestore(c)) && want(c)
	}) {
		bin := filepath.Join(o.work, "bin", "snapex")
		logf("building ./cmd/snapex")
		build := exec.Command("go", "build", "-o", bin, "./cmd/snapex")
		build.Dir, build.Stdout, build.Stderr = root, os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/snapex: %w", err)
		}
		if sx, err = newSnapexEnv(bin, filepath.Join(o.work, "snapex"), vg, delayed, o.chunkMiB, o.parallelism); err != nil {
			return err
		}
		for _, name := range o.datasets {
			id, d, err := sx.importDataset(infos[name])
			if err != nil {
				return err
			}
			snapIDs[name], imports[name] = id, d
			logf("imported %s as snapshot %s in %s (not part of the export measurement)", name, id, d.Round(time.Millisecond))
		}
	}

	// The measurement: per dataset, rounds of every contender in turn,
	// not before the setup's deletions stop slowing file creation down.
	awaitQuiet(logf)
	cells := map[string]map[string]*cell{}
	var ferrets []*ferret // stopped after the measurement
	restoreData := map[string]*datasetInfo{}
	uploadSrc := map[string]string{} // dataset → the export's files on disk, for rclone
	outDir := filepath.Join(o.work, "out")
	started := time.Now()
	for _, name := range o.datasets {
		info := infos[name]
		cells[name] = map[string]*cell{}
		for _, c := range o.contenders {
			cl := &cell{Skipped: skip[c]}
			switch {
			case name == dsTwentyGz && !strings.HasPrefix(c, "snapex"):
				cl.Skipped = "-" // by design: the gzip variant is for snapex only
			case (c == cFiles || c == cFilesS3 || c == cConvert) && name != dsTiny:
				cl.Skipped = "-" // by design: the loopback floors and the conversion bound are the references for the tiny collections
			case (isCapture(c) || isRestore(c)) && name != dsTwenty && name != dsOne:
				cl.Skipped = "-" // by design: captures and restores of the two 500 MiB datasets
			}
			if strings.HasPrefix(c, cRclone) && cl.Skipped == "" {
				if uploadSrc[name], err = rcloneSource(o.work, info); err != nil {
					return err
				}
			}
			cells[name][c] = cl
		}
		// The capture contenders read this dataset from a FerretDB loaded
		// with it (untimed).
		var srv *ferret
		var capGz, capBSON string
		if slices.ContainsFunc(o.contenders, func(c string) bool { return isCapture(c) && cells[name][c].Skipped == "" }) {
			dir := filepath.Join(o.work, "ferretdb")
			if err := discard(dir); err != nil {
				return err
			}
			if srv, err = startFerret(ferretBin, dir); err != nil {
				return err
			}
			t0 := time.Now()
			if err := loadFerret(srv.URI, info); err != nil {
				srv.stop(5 * time.Second)
				return err
			}
			logf("loaded %s into ferretdb in %s (untimed)", name, time.Since(t0).Round(time.Millisecond))
			if sx != nil {
				if capGz, capBSON, err = sx.captureConfigs(srv.URI); err != nil {
					return err
				}
			}
		}
		if srv != nil {
			ferrets = append(ferrets, srv)
		}
		// The restore contenders load this dataset's export (or dump)
		// into another FerretDB (setup untimed).
		var rst *restoreEnv
		if slices.ContainsFunc(o.contenders, func(c string) bool { return isRestore(c) && cells[name][c].Skipped == "" }) {
			t0 := time.Now()
			if rst, err = setupRestore(sx, ferretBin, o.work, info); err != nil {
				return err
			}
			defer rst.stop()
			restoreData[name] = rst.data
			logf("prepared the restores of %s (decimal-free dump, snapex export, ferretdb) in %s (untimed)", name, time.Since(t0).Round(time.Millisecond))
		}
		for r := 1; r <= o.runs; r++ {
			for _, c := range o.contenders {
				cl := cells[name][c]
				if cl.Skipped != "" {
					continue
				}
				// Let the previous contender's writes and deletions reach
				// the disk first, so this one does not pay for them.
				settle()
				// This machine's page cache does not keep the inputs
				// from one run to the next (it shrinks within seconds
				// even when idle): read this contender's inputs again,
				// untimed, so that no contender pays for disk reads.
				inputs := contenderInputs(c, info, sx, snapIDs[name])
				if strings.HasPrefix(c, cRclone) {
					inputs = []string{uploadSrc[name]}
				}
				if isRestore(c) {
					inputs = []string{rst.exportDir, rst.data.DumpDir()}
				}
				for _, d := range inputs {
					if err := readAll(d); err != nil {
						return err
					}
				}
				verify := o.verify && r == 1
				var res result
				var err error
				if isRestore(c) {
					res, err = rst.run(c, self, sx.bin, mongoimportBin, mongorestoreBin, gzipBin, verify)
				} else if isCapture(c) {
					dumpDir := filepath.Join(outDir, "mongodump")
					res, err = withServerCPU(srv, func() (result, error) {
						switch c {
						case cCapture:
							return sx.runCapture(capGz)
						case cCaptureBSON:
							return sx.runCapture(capBSON)
						case cMongodump:
							return runMongodump(self, mongodumpBin, srv.URI, dumpDir)
						case cMongodumpGz:
							return runMongodump(self, mongodumpBin, srv.URI, dumpDir, "--gzip")
						}
						return runMongodump(self, mongodumpBin, srv.URI, dumpDir, "--gzip", "--numParallelCollections", "4")
					})
				} else if base, lat, ok := strings.Cut(c, "@"); ok {
					switch base {
					case cSnapexS3:
						res, err = sx.runSnapex("s3@"+lat, snapIDs[name], info, verify)
					case cFilesS3:
						res, err = runFloorS3(self, info, vg, endpointOf(c), latencyWorkers)
					case cRclone:
						res, err = runRclone(self, rcloneBin, uploadSrc[name], vg, endpointOf(c), latencyWorkers, verify)
					}
				}
				switch c {
				case cSnapexLocal:
					res, err = sx.runSnapex("local", snapIDs[name], info, verify)
				case cSnapexS3:
					res, err = sx.runSnapex("s3", snapIDs[name], info, verify)
				case cSnapexLocalPq:
					res, err = sx.runExport("local", snapIDs[name], info, verify, &exportRun{format: "parquet"})
				case cSnapexS3Pq:
					res, err = sx.runExport("s3", snapIDs[name], info, verify, &exportRun{format: "parquet"})
				case cDIYDuckDB:
					res, err = runDuckDB(self, nodeBin, duckScript, duckdbModule(root), info, filepath.Join(outDir, "duckdb"))
				case cDIYDuckDBBSON:
					res, err = runDuckDBBSON(self, bsondump, nodeBin, duckScript, duckdbModule(root), info, filepath.Join(outDir, "duckdb-bsondump"))
				case cGzip, cPigz:
					comp := []string{gzipBin, "-1"}
					if c == cPigz {
						comp = []string{pigzBin, "-1", "-p", "2"}
					}
					dir := filepath.Join(outDir, "pipeline")
					res, err = runPipeline(self, bsondump, comp, info, dir)
					if err == nil {
						res.OutBytes, err = outputBytes(dir)
					}
					if err == nil && verify {
						err = verifyLines(dir, info.Documents)
					}
					if rmErr := discard(dir); err == nil && rmErr != nil {
						err = fmt.Errorf("clear %s: %w", dir, rmErr)
					}
				case cLimit:
					res, err = runLimit(self, info)
				case cConvert:
					res, err = runConvert(self, info)
				case cFiles:
					res, err = runFloor(self, info, filepath.Join(outDir, "files"))
				case cFilesS3:
					res, err = runFloorS3(self, info, vg, vg.Endpoint, floorWorkers)
				}
				if err != nil {
					// Keep measuring the others; the table says why this one stopped.
					logf("%s on %s, run %d FAILED: %v", c, name, r, err)
					cl.Skipped = fmt.Sprintf("failed in run %d: %s", r, firstLines(err.Error(), 6))
					cl.Runs = nil
					continue
				}
				cl.Runs = append(cl.Runs, res)
				logf("%-10s %-14s run %d/%d: %8.2fs  %7.1f MB/s  CPU %7.2fs  peak RSS %6.1f MiB", name, c, r, o.runs,
					res.Wall.Seconds(), float64(info.BSONBytes)/1e6/res.Wall.Seconds(), res.CPU.Seconds(), float64(res.RSS)/(1<<20))
			}
		}
	}
	elapsed := time.Since(started)
	for _, p := range ferrets {
		p.stop(10 * time.Second)
	}
	if o.keepOutputs {
		logf("outputs kept in %s (-keep-outputs): the next run without the flag deletes them, and then waits before measuring", trashDir)
	} else {
		logf("deleting the outputs")
		if err := emptyTrash(); err != nil {
			return err
		}
	}

	rep := &report{
		Args: args, Facts: machineFacts(root), CPUs: runtime.NumCPU(), Scale: o.scale, Runs: o.runs, ChunkMiB: o.chunkMiB, Parallelism: o.parallelism,
		Datasets: o.datasets, Contenders: o.contenders, Latencies: o.latencies, Infos: infos, Cells: cells, Imports: imports, Elapsed: elapsed,
		RestoreData: restoreData,
	}
	return writeReport(rep, o.out)
}

// writeReport prints the table and writes it to out, with the raw results
// in out's name with .json instead of .md.
func writeReport(rep *report, out string) error {
	md := rep.markdown()
	fmt.Print(md)
	if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	raw, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode raw results: %w", err)
	}
	rawPath := strings.TrimSuffix(out, ".md") + ".json"
	if err := os.WriteFile(rawPath, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write raw results: %w", err)
	}
	logf("results written to %s and %s", out, rawPath)
	return nil
}

// renderSaved renders the table again from raw results saved by an
// earlier run.
func renderSaved(rawPath, out string) error {
	b, err := os.ReadFile(rawPath)
	if err != nil {
		return fmt.Errorf("read raw results: %w", err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return fmt.Errorf("decode %s: %w", rawPath, err)
	}
	if out == "" {
		out = strings.TrimSuffix(rawPath, ".json") + ".md"
	}
	return writeReport(&rep, out)
}

// firstLines shortens s to its first n lines, on one line.
func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, " ⏎ ")
}

// contenderInputs lists the directories contender c reads on dataset info:
// snapex its imported snapshot, the pipelines mongodump's files, the limit
// and the floors the ready Extended JSON (the floors read it before their
// clock starts).
func contenderInputs(c string, info *datasetInfo, sx *snapexEnv, snapID string) []string {
	switch c {
	case cSnapexLocal, cSnapexS3, cSnapexLocalPq, cSnapexS3Pq, atLatency(cSnapexS3, strings.TrimPrefix(c, cSnapexS3+"@")):
		return []string{filepath.Join(sx.dir, "snapshots", snapID)}
	case cGzip, cPigz, cDIYDuckDBBSON, cConvert:
		return []string{info.DumpDir()}
	case cLimit, cDIYDuckDB:
		return []string{info.EJSONDir()}
	}
	return nil
}

// readAll reads every file under dir once.
func readAll(dir string) error {
	paths, _, err := fileTree(dir)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("warm %s: %w", p, err)
		}
		_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
		f.Close()
		if err != nil {
			return fmt.Errorf("warm %s: %w", p, err)
		}
	}
	return nil
}

// machineFacts describes where the harness ran.
func machineFacts(root string) []string {
	cpu := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				if _, err := fmt.Sscan(rest, &kb); err == nil {
					mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
				}
			}
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	commit := "unknown"
	if b, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		commit = strings.TrimSpace(string(b))
		if st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			commit += " (with uncommitted changes)"
		}
	}
	load := "unknown"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	return []string{
		fmt.Sprintf("date: %s", time.Now().UTC().Format("2006-01-02 15:04 MST")),
		fmt.Sprintf("load average at the end (1, 5, 15 min): %s — the machine is shared, so wall times vary between runs", load),
		fmt.Sprintf("nproc: %d", runtime.NumCPU()),
		fmt.Sprintf("CPU: %s", cpu),
		fmt.Sprintf("memory: %s; kernel %s", mem, kernel),
		fmt.Sprintf("Go: %s", runtime.Version()),
		fmt.Sprintf("snapex commit: %s", commit),
	}
}

// settle flushes every file system (sync(2)) and pauses briefly, so that
// write-back of what the previous contender wrote or deleted does not run
// during the next one's measurement.
func settle() {
	syscall.Sync()
	time.Sleep(2 * time.Second)
}
