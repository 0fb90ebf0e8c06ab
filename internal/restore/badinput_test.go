package restore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// moviesFile1 is the second data file of the hand-written export.
const moviesFile1 = atlasPrefix + "/sample_mflix/movies/" + atlasRS + ".1.json.gz"

// replaceLine rewrites line n (1-based) of the gzipped file at path.
func replaceLine(t *testing.T, path string, n int, line string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	lines[n-1] = line + "\n"
	if err := os.WriteFile(path, gz(t, strings.Join(lines, "")), 0o644); err != nil {
		t.Fatal(err)
	}
}

// databases lists the target's databases other than the progress store's.
func databases(t *testing.T, client *mongo.Client) []string {
	t.Helper()
	names, err := client.ListDatabaseNames(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if n != restore.DefaultStateDB && n != "admin" && n != "local" && n != "config" {
			out = append(out, n)
		}
	}
	return out
}

// TestRestoreRefusesIncompleteExport: problems found by the scan stop the
// restore before anything is written, naming what is missing.
func TestRestoreRefusesIncompleteExport(t *testing.T) {
	client := connect(t, testenv.FerretDB(t))
	cases := []struct {
		name   string
		break_ func(dir string) error
		want   []string
	}{
		{"missing data file", func(dir string) error {
			return os.Remove(filepath.Join(dir, atlasPrefix, "sample_mflix/movies", atlasRS+".0.json.gz"))
		}, []string{"sample_mflix/movies/" + atlasRS + ".0.json.gz is missing"}},
		{"missing .complete", func(dir string) error {
			return os.Remove(filepath.Join(dir, atlasPrefix, ".complete"))
		}, []string{atlasPrefix + "/.complete is missing", "--allow-incomplete"}},
		{"totalFiles above what exists", func(dir string) error {
			p := filepath.Join(dir, atlasPrefix, ".complete")
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, bytes.Replace(data, []byte(`"totalFiles":6`), []byte(`"totalFiles":9`), 1), 0o644)
		}, []string{"totalFiles 9 but only 6 objects", "3 missing"}},
		{"metadata.json missing", func(dir string) error {
			return os.Remove(filepath.Join(dir, atlasPrefix, "shop/log/metadata.json"))
		}, []string{"shop/log has data files but no metadata.json"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			atlasExport(t, dir)
			if err := c.break_(dir); err != nil {
				t.Fatal(err)
			}
			_, err := engine(t, openDir(t, dir), atlasPrefix, client, restore.Options{}).Run(context.Background())
			if !errors.Is(err, restore.ErrIncomplete) {
				t.Fatalf("error %v, want ErrIncomplete", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if dbs := databases(t, client); len(dbs) != 0 {
				t.Fatalf("databases %v written for a refused export", dbs)
			}
		})
	}

	// With --allow-incomplete, an export without .complete is restored and
	// the report says what was missing.
	dir := t.TempDir()
	want := atlasExport(t, dir)
	if err := os.Remove(filepath.Join(dir, atlasPrefix, ".complete")); err != nil {
		t.Fatal(err)
	}
	rep, err := engine(t, openDir(t, dir), atlasPrefix, client, restore.Options{AllowIncomplete: true}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], ".complete is missing") {
		t.Errorf("problems %q", rep.Problems)
	}
	if n, _ := client.Database("sample_mflix").Collection("movies").CountDocuments(context.Background(), bson.D{}); n != int64(len(want["sample_mflix.movies"])) {
		t.Errorf("movies: %d documents", n)
	}
}

// TestRestoreBadData: bad data ends the restore with an error naming the
// file and line; the progress store says which collections are complete;
// once the file is repaired, running again finishes with every document
// exactly once.
func TestRestoreBadData(t *testing.T) {
	client := connect(t, testenv.FerretDB(t))
	cases := []struct {
		name   string
		break_ func(t *testing.T, path string)
		want   []string
	}{
		{"corrupt JSON line", func(t *testing.T, p string) {
			replaceLine(t, p, 5, `{"_id": {"$oid": "573a1390f29e313f20100194"}, "title": }`)
		}, []string{moviesFile1 + " line 5:", "not an Extended JSON document"}},
		{"type wrapper that does not parse", func(t *testing.T, p string) {
			replaceLine(t, p, 7, `{"_id": {"$oid": "573a1390f29e313f20100196"}, "released": {"$date": {"$numberLong": "soon"}}}`)
		}, []string{moviesFile1 + " line 7:", "not an Extended JSON document"}},
		{"truncated gzip", func(t *testing.T, p string) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, data[:len(data)/2], 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{moviesFile1 + " line ", "gzip data is truncated"}},
		{"input ends inside a document", func(t *testing.T, p string) {
			if err := os.WriteFile(p, gz(t, `{"_id": {"$oid": "573a1390f29e313f20100190"}, "title": "cut`), 0o644); err != nil {
				t.Fatal(err)
			}
		}, []string{moviesFile1 + " line 1:", "input ends inside a document"}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			want := atlasExport(t, dir)
			path := filepath.Join(dir, filepath.FromSlash(moviesFile1))
			good, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			c.break_(t, path)
			// Each case restores into its own databases.
			o := restore.Options{BatchDocs: 16, Parallelism: 2, Namespaces: restore.NamespaceOptions{
				From: []string{"$db$.$coll$"}, To: []string{"case" + string(rune('a'+i)) + "_$db$.$coll$"}}}
			rep, err := engine(t, openDir(t, dir), atlasPrefix, client, o).Run(ctx)
			if err == nil {
				t.Fatal("restore of bad data succeeded")
			}
			var ie *restore.InputError
			if !errors.As(err, &ie) || ie.Key != moviesFile1 {
				t.Errorf("error %v is not an InputError for %s", err, moviesFile1)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			st, lerr := restore.NewMongoProgress(client, "").Load(ctx, rep.Run)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if ns := st.Namespaces["sample_mflix.movies"]; ns.Phase != restore.PhaseFailed || !strings.Contains(ns.Error, moviesFile1) {
				t.Errorf("movies progress %+v, want failed naming the file", ns)
			}
			for _, nr := range rep.Namespaces {
				tdb, tcoll, _ := strings.Cut(nr.Target, ".")
				n, _ := client.Database(tdb).Collection(tcoll).CountDocuments(ctx, bson.D{})
				switch {
				case nr.Source == "sample_mflix.movies" && nr.Status != restore.StatusFailed:
					t.Errorf("movies: report %+v, want failed", nr)
				case nr.Status == restore.StatusComplete && n != int64(len(want[nr.Source])):
					t.Errorf("%s reported complete with %d documents, want %d", nr.Source, n, len(want[nr.Source]))
				case nr.Status != restore.StatusNotStarted && (n < nr.Docs || n > nr.Docs+int64(o.BatchDocs*nr.Files)):
					// At most one batch per file is written but not recorded.
					t.Errorf("%s: report says %d documents done, the target holds %d", nr.Source, nr.Docs, n)
				}
			}

			// Repaired, the same restore finishes exactly.
			if err := os.WriteFile(path, good, 0o644); err != nil {
				t.Fatal(err)
			}
			rep, err = engine(t, openDir(t, dir), atlasPrefix, client, o).Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, nr := range rep.Namespaces {
				if nr.Status != restore.StatusComplete || nr.Counted != int64(len(want[nr.Source])) {
					t.Errorf("after repair %s: %+v", nr.Source, nr)
				}
			}
			exp := map[string]string{}
			for _, d := range want["sample_mflix.movies"] {
				exp[canonical(t, bson.D{d[0]})] = canonical(t, d)
			}
			sameDocs(t, "movies", canonicalDocs(t, client.Database("case"+string(rune('a'+i))+"_sample_mflix").Collection("movies")), exp)
		})
	}
}
