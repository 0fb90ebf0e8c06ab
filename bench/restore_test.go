package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestNamedOnlyContendersAreNotDefault(t *testing.T) {
	o, err := parseFlags(nil, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range slices.Concat(restoreContenders, parquetContenders, captureContenders) {
		if slices.Contains(o.contenders, c) {
			t.Errorf("%s runs by default; it should run only when named", c)
		}
	}
	o, err = parseFlags([]string{"-contenders", "restore-mongorestore,snapex-local-parquet,restore-snapex,diy-duckdb"}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{cSnapexLocalPq, cDIYDuckDB, cRestoreSnapex, cRestoreDump}
	if !slices.Equal(o.contenders, want) {
		t.Fatalf("contenders %v, want %v", o.contenders, want)
	}
}

func TestRewriteWithoutDecimalsCounts(t *testing.T) {
	dir := t.TempDir()
	dec, _ := bson.ParseDecimal128("1.5")
	var in []byte
	for i := range 3 {
		b, err := bson.Marshal(bson.D{{Key: "_id", Value: i}, {Key: "d", Value: dec}, {Key: "a", Value: bson.A{dec, "x"}}})
		if err != nil {
			t.Fatal(err)
		}
		in = append(in, b...)
	}
	src, dst := filepath.Join(dir, "a.bson"), filepath.Join(dir, "b.bson")
	if err := os.WriteFile(src, in, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := rewriteWithoutDecimals(src, dst)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := os.ReadFile(dst)
	if c.Documents != 3 || c.BSONBytes != int64(len(out)) || len(out) >= len(in) {
		t.Fatalf("counted %+v for %d bytes written from %d", c, len(out), len(in))
	}
	var d bson.D
	if err := bson.Unmarshal(out[:len(out)/3], &d); err != nil || len(d) != 2 || fmt.Sprint(d[1].Value) != "[x]" {
		t.Fatalf("first document %v (%v), want _id and a: [x]", d, err)
	}
}

func TestProcsWorkerRunsJobsAndWritesStdout(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "o.txt")
	spec := fmt.Sprintf(`{"parallel":2,"jobs":[[{"argv":["sh","-c","echo hi"],"stdout":%q},{"argv":["true"]}],[{"argv":["true"]}]]}`, out)
	if err := procsWorkerMain([]string{spec}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hi\n" {
		t.Fatalf("stdout file %q, %v", b, err)
	}
	if err := procsWorkerMain([]string{`{"parallel":1,"jobs":[[{"argv":["false"]}]]}`}); err == nil {
		t.Fatal("a failing command was not reported")
	}
}

func TestRestoreAndParquetTargets(t *testing.T) {
	run := func(s float64, rss int64, srv float64) *cell {
		return &cell{Runs: []result{{Wall: time.Duration(s * float64(time.Second)), RSS: rss, ServerCPU: time.Duration(srv * float64(time.Second))}}}
	}
	rp := &report{
		Datasets: []string{dsTwenty},
		Cells: map[string]map[string]*cell{dsTwenty: {
			cRestoreSnapex: run(10, 100<<20, 9), cRestoreImport: run(40, 50<<20, 9), cRestoreImportPar: run(25, 80<<20, 20),
			cRestoreDump: run(8, 60<<20, 7.5),
			cSnapexLocal: run(2, 100<<20, 0), cSnapexLocalPq: run(5, 300<<20, 0), cDIYDuckDB: run(40, 500<<20, 0), cDIYDuckDBBSON: run(60, 500<<20, 0),
		}},
		RestoreData: map[string]*datasetInfo{dsTwenty: {BSONBytes: 100e6, Documents: 100000}},
	}
	var b strings.Builder
	w := func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }
	met := func(ok bool) string {
		if ok {
			return "yes"
		}
		return "no"
	}
	rp.restoreSection(w, met)
	rp.parquetSection(w, met)
	got := b.String()
	for _, want := range []string{
		"the faster mongoimport (restore-mongoimport-par) | 2.50× | | | | | goal ≥ 3× | no |",
		"snapex restore's wall time ÷ mongorestore's | 1.25× | | | | | goal ≤ 1.5× | yes |",
		"snapex restore peak RSS | 100.0 MiB | | | | | goal < 256 MiB | yes |",
		// least server CPU 7.5 s (mongorestore) over the most cores (0.94, so one core at least): 7.5 s
		"the most server cores any reached | 7.50 s | | | | | snapex at 75 % of it; 3× the faster mongoimport means 8.33 s | — |",
		"| 10.0 | 10 k | 100.0 | 9.00 | 0.90 |",
		"snapex-local-parquet ÷ snapex-local (throughput) | `20coll` | 0.40× | goal ≥ 0.5× | no |",
		"snapex-local-parquet ÷ diy-duckdb (throughput) | `20coll` | 8.0× | goal ≥ 10× | no |",
		"snapex-local-parquet ÷ diy-duckdb-bsondump (throughput) | `20coll` | 12.0× | goal ≥ 10× | yes |",
		"snapex-local-parquet peak RSS | `20coll` | 300.0 MiB | goal < 256 MiB | no |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}
