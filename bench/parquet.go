package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/snapex/snapex/internal/snapshot"
)

// Parquet contenders (issue 18): snapex's Parquet export, and the
// do-it-yourself path through DuckDB. They run only when named in
// -contenders.
const (
	cSnapexLocalPq = "snapex-local-parquet"
	cSnapexS3Pq    = "snapex-s3-parquet"
	cDIYDuckDB     = "diy-duckdb"
	// cDIYDuckDBBSON is the DIY path with its bsondump step timed.
	cDIYDuckDBBSON = "diy-duckdb-bsondump"
)

var parquetContenders = []string{cSnapexLocalPq, cSnapexS3Pq, cDIYDuckDB, cDIYDuckDBBSON}

func init() {
	contenderTitles[cSnapexLocalPq] = "snapex → local directory, Parquet (`snapexOptions.format: parquet`)"
	contenderTitles[cSnapexS3Pq] = "snapex → S3 (versitygw, loopback), Parquet"
	contenderTitles[cDIYDuckDB] = "DIY Parquet: DuckDB `COPY (SELECT * FROM read_json_auto(…)) TO … (FORMAT parquet)` per collection over the ready Extended JSON"
	contenderTitles[cDIYDuckDBBSON] = "DIY Parquet: `bsondump` per collection, then the same DuckDB `COPY`s (both timed)"
}

// namedOnly reports whether c runs only when named in -contenders.
func namedOnly(c string) bool {
	return isCapture(c) || isRestore(c) || strings.HasSuffix(c, "-parquet") || strings.HasPrefix(c, cDIYDuckDB)
}

// duckdbModule is where the harness expects the DuckDB Node.js client
// (the test servers' node_modules).
func duckdbModule(root string) string {
	return filepath.Join(root, ".cache", "node_modules", "@duckdb", "node-api")
}

// duckdbScript is the DIY conversion: one DuckDB in memory, one COPY per
// collection file given, in turn.
const duckdbScript = `const { DuckDBInstance } = require(process.argv[2]);
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  for (let i = 3; i + 1 < process.argv.length; i += 2) {
    const q = (s) => "'" + s.replace(/'/g, "''") + "'";
    await conn.run('COPY (SELECT * FROM read_json_auto(' + q(process.argv[i]) + ')) TO ' + q(process.argv[i + 1]) + ' (FORMAT parquet)');
  }
})().catch((e) => { console.error(e); process.exit(1); });
`

// duckdbArgs is the node command line converting every collection of
// info's Extended JSON into outDir, one Parquet file per collection.
func duckdbArgs(node, script, module string, info *datasetInfo, outDir string) []string {
	args := []string{node, script, module}
	for _, c := range info.Collections {
		name := c.DB + "." + c.Name
		args = append(args, filepath.Join(info.EJSONDir(), c.DB, snapshot.EscapeCollectionName(c.Name)+".json"), filepath.Join(outDir, name+".parquet"))
	}
	return args
}

// runDuckDB measures the DIY path over info's ready Extended JSON in a
// child process (exec-worker, for node's maxrss), output to outDir.
func runDuckDB(self, node, script, module string, info *datasetInfo, outDir string) (result, error) {
	if err := discard(outDir); err != nil {
		return result{}, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return result{}, fmt.Errorf("duckdb output: %w", err)
	}
	defer discard(outDir)
	rep, err := runWorker(self, "exec-worker", duckdbArgs(node, script, module, info, outDir)...)
	if err != nil {
		return result{}, err
	}
	res := result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}
	res.OutBytes, err = outputBytes(outDir)
	return res, err
}

// runDuckDBBSON measures the whole DIY path from the dump: `bsondump
// --outFile` of every collection into outDir, one after another, then the
// DuckDB conversion as runDuckDB's, in a procs-worker (largest maxrss of
// any of the processes).
func runDuckDBBSON(self, bsondump, node, script, module string, info *datasetInfo, outDir string) (result, error) {
	if err := discard(outDir); err != nil {
		return result{}, err
	}
	json := &datasetInfo{dir: filepath.Join(outDir, "json"), Collections: info.Collections}
	var job []procCmd
	for _, c := range info.Collections {
		dst := filepath.Join(json.EJSONDir(), c.DB, snapshot.EscapeCollectionName(c.Name)+".json")
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return result{}, fmt.Errorf("bsondump output: %w", err)
		}
		job = append(job, procCmd{Argv: []string{bsondump, "--quiet", "--outFile", dst, info.BSONFile(c)}})
	}
	job = append(job, procCmd{Argv: duckdbArgs(node, script, module, json, outDir)})
	defer discard(outDir)
	spec, err := jsonSpec(procSpec{Parallel: 1, Jobs: [][]procCmd{job}})
	if err != nil {
		return result{}, err
	}
	rep, err := runWorker(self, "procs-worker", spec)
	if err != nil {
		return result{}, err
	}
	res := result{Wall: seconds(rep.Seconds), RSS: rep.HWM, CPU: seconds(rep.CPU)}
	res.OutBytes, err = parquetBytes(outDir)
	return res, err
}

// parquetBytes is the size of the .parquet files under dir.
func parquetBytes(dir string) (int64, error) {
	paths, sizes, err := fileTree(dir)
	var n int64
	for i, p := range paths {
		if strings.HasSuffix(p, ".parquet") {
			n += sizes[i]
		}
	}
	return n, err
}
