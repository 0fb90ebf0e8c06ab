package restore_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// killExport writes an Atlas-layout export of three collections with
// three data files each, and returns their documents by namespace.
func killExport(t *testing.T, dir string) map[string][]bson.D {
	t.Helper()
	docs := map[string][]bson.D{}
	files := map[string][]byte{}
	total := 0
	for _, ns := range []string{"db1.a", "db1.b", "db2.c"} {
		db, coll, _ := strings.Cut(ns, ".")
		for f := range 3 {
			var b strings.Builder
			for i := range 1500 {
				d := movie(f*1500 + i)
				d[0].Value = fmt.Sprintf("%s-%d-%d", ns, f, i)
				docs[ns] = append(docs[ns], d)
				b.WriteString(ejsonLine(t, d, true))
			}
			files[fmt.Sprintf("%s/%s/rs0.%d.json.gz", db, coll, f)] = gz(t, b.String())
			total++
		}
		files[db+"/"+coll+"/metadata.json"] = []byte(`{"collectionName":"` + coll + `","indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},` +
			`{"v":{"$numberInt":"2"},"key":{"year":{"$numberInt":"1"}},"name":"year_1"}],"options":{}}`)
		total++
	}
	files[".complete"] = []byte(fmt.Sprintf(`{"clusterName":"c","snapshotInitiationDate":"2026-01-01T00:00:00.000Z","totalFiles":%d}`, total))
	writeFiles(t, dir, files)
	return docs
}

// buildSnapex builds the snapex command into the test's directory.
func buildSnapex(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "snapex")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/snapex/snapex/cmd/snapex").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// recordedDocs sums the documents recorded as done, over every run.
func recordedDocs(t *testing.T, client *mongo.Client) int64 {
	t.Helper()
	ctx := context.Background()
	cur, err := client.Database(restore.DefaultStateDB).Collection("progress").Aggregate(ctx, mongo.Pipeline{
		{{Key: "$match", Value: bson.D{{Key: "kind", Value: "file"}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "n", Value: bson.D{{Key: "$sum", Value: "$docs"}}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	if !cur.Next(ctx) {
		return 0
	}
	n, _ := cur.Current.Lookup("n").AsInt64OK()
	return n
}

// TestRestoreSurvivesSIGKILL kills the snapex restore command at random
// points (before, during and between batches, several times per restore)
// and starts it again; the final state holds every document exactly once
// and the command's own count check passes.
func TestRestoreSurvivesSIGKILL(t *testing.T) {
	bin := buildSnapex(t)
	dir := t.TempDir()
	want := killExport(t, dir)
	uri := testenv.FerretDB(t)
	client := connect(t, uri)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 17))

	for round := range 4 {
		target := fmt.Sprintf("round%d_", round)
		args := []string{"restore", "--uri", uri, "--batch-docs", "40", "--parallel", "3",
			"--nsFrom", "$db$.$coll$", "--nsTo", target + "$db$.$coll$", "file://" + dir}
		kills := 1 + rng.IntN(3)
		for k := range kills {
			var out bytes.Buffer
			cmd := exec.Command(bin, args...)
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Kill once a random number of further documents is recorded
			// (zero: before the first batch), or after a random delay.
			before := recordedDocs(t, client)
			goal := before + int64(rng.IntN(6000))
			deadline := time.Now().Add(time.Duration(100+rng.IntN(8000)) * time.Millisecond)
			for time.Now().Before(deadline) && recordedDocs(t, client) < goal {
				time.Sleep(10 * time.Millisecond)
			}
			_ = cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			t.Logf("round %d kill %d: %d → %d documents recorded (%v)", round, k, before, recordedDocs(t, client), err)
			if err == nil {
				t.Logf("the restore finished before the kill:\n%s", out.String())
			}
		}
		out, rss, err := restore.RunMeasured(exec.Command(bin, args...))
		if err != nil {
			t.Fatalf("round %d: final run: %v\n%s", round, err, out)
		}
		t.Logf("round %d: final run peak RSS %d MiB", round, rss>>10)
		if rss > 256<<10 {
			t.Errorf("round %d: peak RSS %d MiB, want under 256 MiB", round, rss>>10)
		}
		if !strings.Contains(string(out), "complete") || strings.Contains(string(out), "differs") {
			t.Errorf("round %d: report:\n%s", round, out)
		}
		if strings.Contains(string(out), "found in place") {
			t.Logf("round %d: the final run found batches written but not recorded", round)
		}
		for ns, docs := range want {
			db, coll, _ := strings.Cut(ns, ".")
			exp := map[string]string{}
			for _, d := range docs {
				exp[canonical(t, bson.D{d[0]})] = canonical(t, d)
			}
			sameDocs(t, target+ns, canonicalDocs(t, client.Database(target+db).Collection(coll)), exp)
			if idx := indexSpecs(t, client.Database(target+db).Collection(coll)); len(idx) != 2 {
				t.Errorf("%s%s indexes %v", target, ns, idx)
			}
		}
	}
}

// TestRestoreCommandReportsBadInput: the command exits non-zero with the
// file and line on stderr and prints which collections are complete.
func TestRestoreCommandReportsBadInput(t *testing.T) {
	bin := buildSnapex(t)
	dir := t.TempDir()
	atlasExport(t, dir)
	replaceLine(t, filepath.Join(dir, filepath.FromSlash(moviesFile1)), 5, `{"_id": {"$oid": "573a1390f29e313f20100194"}, "year": {"$numberInt": "x"}}`)
	uri := testenv.FerretDB(t)
	cmd := exec.Command(bin, "restore", "--uri", uri, "--parallel", "1", filepath.Join(dir, filepath.FromSlash(atlasPrefix)))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit: %v\nstdout:\n%s\nstderr:\n%s", err, &stdout, &stderr)
	}
	// The source is the export's directory: keys are relative to it.
	if !strings.Contains(stderr.String(), "snapex: restore: data file "+strings.TrimPrefix(moviesFile1, atlasPrefix+"/")+" line 5: not an Extended JSON document") {
		t.Errorf("stderr does not name the file and line:\n%s", &stderr)
	}
	if !strings.Contains(stdout.String(), "sample_mflix.movies") || !strings.Contains(stdout.String(), "failed") {
		t.Errorf("report:\n%s", &stdout)
	}
	// No export at all: refused before anything is written.
	out, err := exec.Command(bin, "restore", "--uri", uri, t.TempDir()).CombinedOutput()
	if err == nil || !strings.Contains(string(out), ".complete is missing") {
		t.Errorf("empty directory: %v\n%s", err, out)
	}
}
