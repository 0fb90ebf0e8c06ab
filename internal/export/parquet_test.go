package export_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/duckdbtest"
	"github.com/snapex/snapex/internal/export"
	"github.com/snapex/snapex/internal/export/format"
	"github.com/snapex/snapex/internal/manifest"
	"github.com/snapex/snapex/internal/parquetout"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// withFormats registers the Parquet format on an engine.
func withFormats(e *export.Engine) *export.Engine {
	e.Formats = map[string]format.Format{atlas.FormatParquet: parquetout.Format{}}
	return e
}

// newJobWith is newJob for snapshot snapID with snapexOptions.
func (f *fixture) newJobWith(snapID string, opts *atlas.ExportOptions) *atlas.ExportJob {
	f.t.Helper()
	if aerr := opts.Normalize(); aerr != nil {
		f.t.Fatal(aerr)
	}
	j := f.newJobRow(snapID)
	j.Options = opts
	if err := f.store.CreateExportJob(context.Background(), j, nil); err != nil {
		f.t.Fatal(err)
	}
	return j
}

func (f *fixture) newJobRow(snapID string) *atlas.ExportJob {
	now := time.Now().UTC().Truncate(time.Second)
	return &atlas.ExportJob{ID: atlas.NewObjectID(now), GroupID: groupID, ClusterName: f.snap.ClusterName, SnapshotID: snapID,
		ExportBucketID: f.bucket.ID, State: atlas.ExportQueued, CreatedAt: now,
		Prefix: atlas.ExportPrefix(orgID, groupID, f.snap.ClusterName, f.snap.CreatedAt, now.Add(time.Duration(jobSeq.Add(1))*time.Second))}
}

// addSnapshot stores another completed snapshot of the fixture's cluster
// on rs0 holding exactly docs ("db.coll" → documents).
func (f *fixture) addSnapshot(docs map[string][]bson.D) string {
	f.t.Helper()
	ctx := context.Background()
	created := f.snap.CreatedAt.Add(time.Hour)
	id := atlas.NewObjectID(created)
	w, err := snapshot.NewWriter(ctx, f.snaps, snapshot.Manifest{ID: id, ClusterName: f.snap.ClusterName, CreatedAt: created, Type: snapshot.ClusterReplicaSet})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := w.AddReplicaSet("rs0"); err != nil {
		f.t.Fatal(err)
	}
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		db, coll, _ := strings.Cut(name, ".")
		cw, err := w.CreateCollection(ctx, "rs0", db, snapshot.Metadata{CollectionName: coll, Type: snapshot.TypeCollection})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, d := range docs[name] {
			raw, err := bson.Marshal(d)
			if err != nil {
				f.t.Fatal(err)
			}
			if err := cw.Append(raw); err != nil {
				f.t.Fatal(err)
			}
		}
		if err := cw.Close(); err != nil {
			f.t.Fatal(err)
		}
	}
	if _, err := w.Finish(ctx); err != nil {
		f.t.Fatal(err)
	}
	s := *f.snap
	s.ID, s.CreatedAt, s.Members = id, created, nil
	if err := f.store.CreateSnapshot(ctx, &s); err != nil {
		f.t.Fatal(err)
	}
	return id
}

func (f *fixture) runOK(j *atlas.ExportJob) *atlas.ExportJob {
	f.t.Helper()
	if err := withFormats(f.engine("w1")).Run(context.Background(), j.ID, false); err != nil {
		f.t.Fatal(err)
	}
	got := f.job(j.ID)
	if got.State != atlas.ExportSuccessful {
		f.t.Fatalf("job %s: %+v", got.State, got.StateReason)
	}
	return got
}

// parquetGlob is the DuckDB glob of a collection's Parquet files.
func (f *fixture) parquetGlob(j *atlas.ExportJob, db, coll string) string {
	return filepath.Join(f.bucketD, filepath.FromSlash(j.Prefix), db, coll, "*.parquet")
}

func TestParquetExportRowCountsAndNamespaces(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"shop.orders": 300, "shop.carts": 20, "shop.empty": 0, "crm.people": 40, "crm.audit": 5})
	j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Format: atlas.FormatParquet, NSInclude: []string{"shop.*", "crm.people"}, NSExclude: []string{"shop.c*"}})
	got := f.runOK(j)
	if got.TotalCollections != 3 || got.ExportedCollections != 3 {
		t.Fatalf("exportStatus %d/%d, want 3/3 (shop.orders, shop.empty, crm.people)", got.ExportedCollections, got.TotalCollections)
	}
	b := openLocal(t, f)
	ctx := context.Background()
	var keys []string
	for info, err := range b.List(ctx, j.Prefix+"/") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, strings.TrimPrefix(info.Key, j.Prefix+"/"))
	}
	dirs := map[string]bool{}
	var parquets int
	for _, k := range keys {
		if strings.Count(k, "/") == 2 {
			dirs[k[:strings.LastIndexByte(k, '/')]] = true
		}
		if strings.HasSuffix(k, ".parquet") {
			parquets++
		}
		if strings.HasSuffix(k, ".json.gz") {
			t.Fatalf("a Parquet export wrote %s", k)
		}
	}
	if want := map[string]bool{"shop/orders": true, "shop/empty": true, "crm/people": true}; fmt.Sprint(dirs) != fmt.Sprint(want) {
		t.Fatalf("collections exported %v, want %v", dirs, want)
	}
	if parquets < 4 {
		t.Fatalf("300 KiB of orders in 64 KiB files made only %d Parquet files", parquets)
	}
	raw, err := b.ReadAll(ctx, j.Prefix+"/.complete")
	if err != nil {
		t.Fatal(err)
	}
	var complete struct {
		TotalFiles     int                  `json:"totalFiles"`
		SnapexOptions  *atlas.ExportOptions `json:"snapexOptions"`
		SnapexFiles    []string             `json:"snapexFiles"`
		SnapexManifest *manifest.Reference  `json:"snapexManifest"`
	}
	if err := json.Unmarshal(raw, &complete); err != nil {
		t.Fatal(err)
	}
	if complete.TotalFiles != parquets+3 || len(complete.SnapexFiles) != parquets+3 {
		t.Fatalf(".complete totalFiles %d, snapexFiles %d, want %d", complete.TotalFiles, len(complete.SnapexFiles), parquets+3)
	}
	if complete.SnapexOptions == nil || complete.SnapexOptions.Format != "parquet" || complete.SnapexManifest == nil {
		t.Fatalf(".complete lacks the options or the manifest: %s", raw)
	}
	res := duckdbtest.Query(t,
		fmt.Sprintf("SELECT count(*)::INTEGER AS n, count(DISTINCT _id)::INTEGER AS ids, min(i)::INTEGER AS lo, max(i)::INTEGER AS hi FROM read_parquet('%s')", f.parquetGlob(j, "shop", "orders")),
		fmt.Sprintf("SELECT count(*)::INTEGER AS n FROM read_parquet('%s')", f.parquetGlob(j, "crm", "people")),
		fmt.Sprintf("SELECT nested.city AS city, nested.zip AS zip, tags FROM read_parquet('%s') WHERE i = 7", f.parquetGlob(j, "shop", "orders")),
	)
	if r := res[0][0]; r["n"] != float64(300) || r["ids"] != float64(300) || r["lo"] != float64(0) || r["hi"] != float64(299) {
		t.Fatalf("orders read by DuckDB: %v", r)
	}
	if r := res[1][0]; r["n"] != float64(40) {
		t.Fatalf("people read by DuckDB: %v", r)
	}
	var src bson.M
	if err := bson.Unmarshal(f.docs["rs0/shop.orders"][7], &src); err != nil {
		t.Fatal(err)
	}
	nested := bson.M{}
	for _, e := range src["nested"].(bson.D) {
		nested[e.Key] = e.Value
	}
	if r := res[2][0]; r["city"] != nested["city"] || r["zip"] != float64(nested["zip"].(int32)) {
		t.Fatalf("nested field of orders #7: DuckDB %v, source %v", r, nested)
	}
	// tags mixes a string, an int32 and an int64: one Extended JSON string per value.
	tags := res[2][0]["tags"].([]any)
	srcTags := src["tags"].(bson.A)
	if len(tags) != 3 || tags[0] != fmt.Sprintf("%q", srcTags[0]) || tags[1] != fmt.Sprintf(`{"$numberInt":"%d"}`, srcTags[1]) ||
		tags[2] != fmt.Sprintf(`{"$numberLong":"%d"}`, srcTags[2]) {
		t.Fatalf("mixed-type array: DuckDB %v, source %v", tags, srcTags)
	}

	rep, err := manifest.Verify(ctx, b, j.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || !rep.WithManifest || len(rep.Files) != parquets+5 {
		t.Fatalf("verify of a good export: ok=%v manifest=%v files=%d problems=%v %+v", rep.OK(), rep.WithManifest, len(rep.Files), rep.Problems, rep.Files)
	}
}

// allTypes is one collection covering every BSON type, with fields whose
// type varies between documents.
func allTypes() ([]bson.D, time.Time, bson.ObjectID) {
	at := time.Date(2024, 2, 29, 13, 14, 15, 678e6, time.UTC)
	oid, _ := bson.ObjectIDFromHex("65f0a1b2c3d4e5f601234567")
	dec1, _ := bson.ParseDecimal128("12345.678")
	dec2, _ := bson.ParseDecimal128("-0.5")
	nan, _ := bson.ParseDecimal128("NaN")
	docs := []bson.D{
		{
			{Key: "_id", Value: oid}, {Key: "ref", Value: oid}, {Key: "n", Value: int32(1)}, {Key: "dbl", Value: 1.5}, {Key: "s", Value: "héllo"},
			{Key: "b", Value: true}, {Key: "at", Value: bson.NewDateTimeFromTime(at)}, {Key: "i64", Value: int64(1) << 40},
			{Key: "dec", Value: dec1}, {Key: "decnan", Value: dec1},
			{Key: "bin", Value: bson.Binary{Subtype: 0, Data: []byte{0, 1, 2, 0xfe, 0xff}}},
			{Key: "nested", Value: bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: "deep"}}}, {Key: "k", Value: int32(5)}}},
			{Key: "arr", Value: bson.A{int32(1), int32(2), int32(3)}},
			{Key: "docs", Value: bson.A{bson.D{{Key: "x", Value: int32(1)}}, bson.D{{Key: "x", Value: int32(2)}, {Key: "y", Value: "z"}}}},
			{Key: "mixed", Value: "text"}, {Key: "widen", Value: int32(7)}, {Key: "widenD", Value: int32(2)},
			{Key: "ts", Value: bson.Timestamp{T: 1700000000, I: 3}}, {Key: "re", Value: bson.Regex{Pattern: "^a", Options: "i"}},
			{Key: "js", Value: bson.JavaScript("x=1")}, {Key: "min", Value: bson.MinKey{}}, {Key: "max", Value: bson.MaxKey{}},
			{Key: "nul", Value: nil}, {Key: "empty", Value: bson.D{}},
		},
		{
			{Key: "_id", Value: bson.NewObjectIDFromTimestamp(at)}, {Key: "n", Value: int32(2)}, {Key: "dec", Value: dec2}, {Key: "decnan", Value: nan},
			{Key: "mixed", Value: int64(42)}, {Key: "widen", Value: int64(1) << 50}, {Key: "widenD", Value: 2.25},
			{Key: "nested", Value: bson.D{{Key: "k", Value: nil}}}, {Key: "arr", Value: bson.A{}},
		},
		{
			{Key: "_id", Value: int32(3)}, {Key: "n", Value: int32(3)}, {Key: "mixed", Value: bson.D{{Key: "o", Value: true}}},
		},
	}
	return docs, at, oid
}

func TestParquetTypesReadByDuckDB(t *testing.T) {
	f := newFixture(t, "", "", "Cluster0", []string{"rs0"}, map[string]int{"x.y": 1})
	docs, at, oid := allTypes()
	snapID := f.addSnapshot(map[string][]bson.D{"lab.types": docs})
	j := f.newJobWith(snapID, &atlas.ExportOptions{Format: atlas.FormatParquet, Parquet: &atlas.ParquetOptions{Compression: "snappy", RowGroupRows: 2, FullDocument: true}})
	f.runOK(j)
	glob := f.parquetGlob(j, "lab", "types")
	res := duckdbtest.Query(t,
		fmt.Sprintf(`SELECT n, _id, ref, dbl, s, b, epoch_ms("at")::BIGINT::VARCHAR AS at_ms, typeof("at") AS at_type, i64::VARCHAR AS i64,
			dec::VARCHAR AS dec, typeof(dec) AS dec_type, decnan, hex(bin) AS bin, nested.a.b AS deep, nested.k AS k, arr, docs[2].y AS y,
			mixed, widen::VARCHAR AS widen, typeof(widen) AS widen_type, widenD, ts, re, js, "min", "max", nul, empty, _document
			FROM read_parquet('%s') ORDER BY n`, glob),
		fmt.Sprintf(`SELECT count(*)::INTEGER AS n FROM read_parquet('%s') WHERE nested.a.b = 'deep'`, glob),
		fmt.Sprintf(`SELECT count(*)::INTEGER AS groups FROM parquet_metadata('%s') WHERE column_id = 0`, glob),
	)
	rows := res[0]
	if len(rows) != 3 {
		t.Fatalf("rows %d, want 3", len(rows))
	}
	r0, r1, r2 := rows[0], rows[1], rows[2]
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: DuckDB read %v, want %v", what, got, want)
		}
	}
	check("ObjectId as hex", r0["_id"], `{"$oid":"65f0a1b2c3d4e5f601234567"}`)
	check("ObjectId", r0["ref"], oid.Hex())
	check("double", r0["dbl"], 1.5)
	check("string", r0["s"], "héllo")
	check("bool", r0["b"], true)
	check("date millis", r0["at_ms"], fmt.Sprint(at.UnixMilli()))
	check("date type", r0["at_type"], "TIMESTAMP WITH TIME ZONE")
	check("int64", r0["i64"], fmt.Sprint(int64(1)<<40))
	check("decimal", r0["dec"], "12345.678")
	check("decimal 2", r1["dec"], "-0.500")
	check("decimal type", r0["dec_type"], "DECIMAL(38,3)")
	check("decimal with NaN as Extended JSON", r1["decnan"], `{"$numberDecimal":"NaN"}`)
	check("binary", r0["bin"], "000102FEFF")
	check("nested", r0["deep"], "deep")
	check("nested int", r0["k"], 5)
	check("nested null", r1["k"], nil)
	check("array", r0["arr"], []any{1.0, 2.0, 3.0})
	check("empty array", r1["arr"], []any{})
	check("array of documents", r0["y"], "z")
	check("mixed string", r0["mixed"], `"text"`)
	check("mixed int64", r1["mixed"], `{"$numberLong":"42"}`)
	check("mixed document", r2["mixed"], `{"o":true}`)
	check("int32+int64 widened", r1["widen"], fmt.Sprint(int64(1)<<50))
	check("int32 widened", r0["widen"], "7")
	check("widened type", r0["widen_type"], "BIGINT")
	check("int32+double widened", r0["widenD"], 2.0)
	check("timestamp", r0["ts"], `{"$timestamp":{"t":1700000000,"i":3}}`)
	check("regex", r0["re"], `{"$regularExpression":{"pattern":"^a","options":"i"}}`)
	check("javascript", r0["js"], `{"$code":"x=1"}`)
	check("minKey", r0["min"], `{"$minKey":1}`)
	check("maxKey", r0["max"], `{"$maxKey":1}`)
	check("null", r0["nul"], nil)
	check("empty document", r0["empty"], "{}")
	check("absent", r2["dbl"], nil)
	check("ObjectId in the row with mixed _id", r2["_id"], `{"$numberInt":"3"}`)
	if d := r0["_document"].(string); !strings.HasPrefix(d, `{"_id":{"$oid":"65f0a1b2c3d4e5f601234567"},"ref":{"$oid":"65f0a1b2c3d4e5f601234567"},"n":{"$numberInt":"1"}`) {
		t.Errorf("full document column: %s", d)
	}
	check("query over a nested field", res[1][0]["n"], 1)
	check("row groups of 2 rows", res[2][0]["groups"], 2)
}

// TestParquetShardedCluster: each shard writes its own file series of a
// collection; DuckDB reads them as one table and the manifest verifies.
func TestParquetShardedCluster(t *testing.T) {
	f := newFixture(t, "", "", "Sharded0", []string{"shard0", "shard1"}, map[string]int{"shop.orders": 150})
	j := f.newJobWith(f.snap.ID, &atlas.ExportOptions{Format: atlas.FormatParquet, Parquet: &atlas.ParquetOptions{Compression: "gzip"}})
	f.runOK(j)
	res := duckdbtest.Query(t,
		fmt.Sprintf("SELECT rs, count(*)::INTEGER AS n FROM read_parquet('%s', union_by_name=true) GROUP BY rs ORDER BY rs", f.parquetGlob(j, "shop", "orders")),
		fmt.Sprintf("SELECT count(*)::INTEGER AS files FROM glob('%s') WHERE file LIKE '%%/shard1.%%'", f.parquetGlob(j, "shop", "orders")))
	if got := fmt.Sprint(res[0]); got != "[map[n:150 rs:shard0] map[n:150 rs:shard1]]" {
		t.Fatalf("rows per shard: %s", got)
	}
	if res[1][0]["files"].(float64) < 2 {
		t.Fatalf("shard1 files: %v", res[1])
	}
	rep, err := manifest.Verify(context.Background(), openLocal(t, f), j.Prefix)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %v %+v", err, rep.Problems, rep.Files)
	}
}
