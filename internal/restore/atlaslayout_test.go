package restore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/restore"
	"github.com/snapex/snapex/internal/testenv"
)

// atlasPrefix is the prefix a real export job returned (behaviour notes §10).
const atlasPrefix = "exported_snapshots/a0123456789abcdef012345a/b0123456789abcdef012345b/cluster-989/2026-08-10T0327/1786332505"

// atlasRS is the replica set name Atlas puts in data file names.
const atlasRS = "atlas-14xyz3-shard-0"

// movie is document i of the hand-written export. Its int64 values lie
// outside the int32 range: relaxed Extended JSON writes small ones as
// plain numbers, which every reader takes for int32 (the format is lossy
// there, not the restore).
func movie(i int) bson.D {
	return bson.D{
		{Key: "_id", Value: bson.ObjectID{0x57, 0x3a, 0x13, 0x90, 0xf2, 0x9e, 0x31, 0x3f, 0x20, 0x10, byte(i >> 8), byte(i)}},
		{Key: "title", Value: fmt.Sprintf("Movie %d — «ünïcode» \"quoted\" \\ \n", i)},
		{Key: "year", Value: int32(1900 + i%120)},
		{Key: "runtime", Value: int64(i) * 1_000_000_007},
		{Key: "rating", Value: float64(i) / 8},
		{Key: "released", Value: bson.DateTime(-2_000_000_000_000 + int64(i)*86_400_000)},
		{Key: "poster", Value: bson.Binary{Subtype: 0, Data: []byte{byte(i), 1, 2}}},
		{Key: "uuid", Value: bson.Binary{Subtype: 4, Data: []byte("0123456789abcdef")}},
		{Key: "cast", Value: bson.A{"A", bson.D{{Key: "name", Value: "B"}, {Key: "age", Value: int32(i % 90)}}, nil, true}},
		{Key: "imdb", Value: bson.D{{Key: "id", Value: int32(i)}, {Key: "votes", Value: int64(i*3) + 1<<40}}},
		{Key: "pattern", Value: bson.Regex{Pattern: "^m/" + fmt.Sprint(i), Options: "i"}},
		{Key: "lastupdated", Value: bson.Timestamp{T: uint32(1_700_000_000 + i), I: 1}},
	}
}

// ejsonLine renders doc as one line of Extended JSON, canonical or relaxed.
func ejsonLine(t testing.TB, doc bson.D, canonical bool) string {
	b, err := bson.MarshalExtJSON(doc, canonical, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

// atlasExport writes an export in exactly Atlas's layout under dir:
// sample_mflix.movies in two data files (the first of two gzip members,
// canonical and relaxed lines mixed), a capped shop.log, an empty
// shop.empty with only metadata.json, and .complete. It returns the
// documents per namespace.
func atlasExport(t testing.TB, dir string) map[string][]bson.D {
	docs := map[string][]bson.D{}
	var part0a, part0b, part1 strings.Builder
	for i := range 700 {
		d := movie(i)
		docs["sample_mflix.movies"] = append(docs["sample_mflix.movies"], d)
		switch {
		case i < 200:
			part0a.WriteString(ejsonLine(t, d, true))
		case i < 400:
			part0b.WriteString(ejsonLine(t, d, false))
		default:
			part1.WriteString(ejsonLine(t, d, i%2 == 0))
		}
	}
	var logLines strings.Builder
	for i := range 50 {
		d := bson.D{{Key: "_id", Value: int64(i)}, {Key: "msg", Value: fmt.Sprintf("line %d", i)}}
		docs["shop.log"] = append(docs["shop.log"], d)
		logLines.WriteString(ejsonLine(t, d, true))
	}
	p := atlasPrefix + "/"
	writeFiles(t, dir, map[string][]byte{
		p + "sample_mflix/movies/" + atlasRS + ".0.json.gz": gz(t, part0a.String(), part0b.String()),
		p + "sample_mflix/movies/" + atlasRS + ".1.json.gz": gz(t, part1.String()),
		p + "sample_mflix/movies/metadata.json": []byte(`{"collectionName":"movies","indexes":[` +
			`{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},` +
			`{"v":{"$numberInt":"2"},"key":{"year":{"$numberInt":"-1"},"title":{"$numberInt":"1"}},"name":"year_-1_title_1"},` +
			`{"v":{"$numberInt":"2"},"unique":true,"key":{"imdb.id":{"$numberInt":"1"}},"name":"imdb.id_1","ns":"sample_mflix.movies"}],` +
			`"options":{},"uuid":"8a2b0c1d2e3f40516273849506a7b8c9"}`),
		p + "shop/log/" + atlasRS + ".0.json.gz": gz(t, logLines.String()),
		p + "shop/log/metadata.json": []byte(`{"collectionName":"log","indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"}],` +
			`"options":{"capped":true,"size":{"$numberLong":"1048576"}},"uuid":"0f1e2d3c4b5a69788796a5b4c3d2e1f0"}`),
		p + "shop/empty/metadata.json": []byte(`{"collectionName":"empty","indexes":[{"v":{"$numberInt":"2"},"key":{"_id":{"$numberInt":"1"}},"name":"_id_"},` +
			`{"v":{"$numberInt":"2"},"key":{"k":{"$numberInt":"1"}},"name":"k_1"}],"options":{},"uuid":"00112233445566778899aabbccddeeff"}`),
		// totalFiles counts data files and metadata.json (6); .permissioncheck sits at the bucket root.
		p + ".complete": []byte(`{"orgId":"a0123456789abcdef012345a","orgName":"Org","groupId":"b0123456789abcdef012345b","groupName":"Project 0",` +
			`"clusterUniqueId":"6a7943462c88faeba59ccf00","clusterName":"cluster-989","snapshotInitiationDate":"2026-08-10T03:27:08.321Z",` +
			`"totalFiles":6,"labels":[{"key":"env","value":"test"}],"customData":[]}`),
		"exported_snapshots/.permissioncheck": []byte("{}"),
	})
	return docs
}

// TestRestoreAtlasLayout restores an export written by hand in Atlas's
// layout and compares every document, index and collection option.
func TestRestoreAtlasLayout(t *testing.T) {
	dir := t.TempDir()
	want := atlasExport(t, dir)
	client := connect(t, testenv.FerretDB(t))
	ctx := context.Background()

	rep, err := engine(t, openDir(t, dir), atlasPrefix, client, restore.Options{BatchDocs: 64}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Namespaces) != 3 || rep.Mismatches != 0 {
		t.Fatalf("report: %+v", rep)
	}
	for _, nr := range rep.Namespaces {
		if nr.Status != restore.StatusComplete || nr.Counted != int64(len(want[nr.Source])) || nr.Docs != nr.Counted {
			t.Errorf("%s: %+v, want complete with %d documents", nr.Source, nr, len(want[nr.Source]))
		}
	}
	for ns, docs := range want {
		db, coll, _ := strings.Cut(ns, ".")
		exp := map[string]string{}
		for _, d := range docs {
			exp[canonical(t, bson.D{d[0]})] = canonical(t, d)
		}
		sameDocs(t, ns, canonicalDocs(t, client.Database(db).Collection(coll)), exp)
	}
	idx := indexSpecs(t, client.Database("sample_mflix").Collection("movies"))
	joined := strings.Join(idx, "\n")
	if len(idx) != 3 || !strings.Contains(joined, `"key":{"year":{"$numberInt":"-1"},"title":{"$numberInt":"1"}},"name":"year_-1_title_1"`) ||
		!strings.Contains(joined, `"unique":true`) || !strings.Contains(joined, `"name":"imdb.id_1"`) {
		t.Errorf("movies indexes:\n%s", joined)
	}
	if idx := indexSpecs(t, client.Database("shop").Collection("empty")); len(idx) != 2 || !strings.Contains(idx[1], `"name":"k_1"`) {
		t.Errorf("empty collection indexes: %v", idx)
	}
	specs, err := client.Database("shop").ListCollectionSpecifications(ctx, bson.D{{Key: "name", Value: "log"}})
	if err != nil || len(specs) != 1 {
		t.Fatalf("list shop.log: %v %v", specs, err)
	}
	if capped, _ := specs[0].Options.Lookup("capped").BooleanOK(); !capped {
		t.Errorf("shop.log options %s, want capped", specs[0].Options)
	}
}

// TestRestoreIndexTiming: indexes built before the data, or not at all.
func TestRestoreIndexTiming(t *testing.T) {
	dir := t.TempDir()
	atlasExport(t, dir)
	client := connect(t, testenv.FerretDB(t))
	for timing, want := range map[restore.IndexTiming]int{restore.IndexesBefore: 3, restore.IndexesNone: 1} {
		db := "timing_" + string(timing)
		o := restore.Options{Indexes: timing, Namespaces: restore.NamespaceOptions{Include: []string{"sample_mflix.movies"},
			From: []string{"sample_mflix.movies"}, To: []string{db + ".movies"}}}
		if _, err := engine(t, openDir(t, dir), atlasPrefix, client, o).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if idx := indexSpecs(t, client.Database(db).Collection("movies")); len(idx) != want {
			t.Errorf("indexes %s: %v, want %d", timing, idx, want)
		}
	}
}
