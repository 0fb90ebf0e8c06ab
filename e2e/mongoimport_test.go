package e2e

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// oracleDoc is document i of the mongoimport oracle collection: the types
// the issue names (int32, int64, double, dates, binary, ObjectId, regex,
// timestamps, nested arrays) in every position, plus strings, booleans and
// null.
//
// Left out, because FerretDB v1.24 (SQLite backend), the MongoDB-wire
// server available here, cannot store them (each checked against it):
//   - decimal128, minKey, maxKey, undefined, JavaScript code (with or
//     without scope), symbol and DBPointer: FerretDB v1 has no such types
//     and closes the connection on insert;
//   - NaN, +Inf and -Inf doubles: rejected ("infinity values are not
//     allowed") or the connection is closed; -0.0 is stored as 0.0;
//   - an array directly inside an array ("nested arrays are not
//     supported"); arrays inside documents inside arrays are fine and
//     are used instead;
//   - field names starting with '$' or containing '.', '"' or '\'.
//
// Those types are still proved exact by TestExportToEveryProvider, which
// compares every exported document with its source byte for byte.
func (g *gen) oracleDoc(i int) bson.D {
	return bson.D{
		{Key: "_id", Value: int32(i)},
		{Key: "int32", Value: int32(i*7919 - 1_000_000)},
		{Key: "int32Edges", Value: bson.A{int32(math.MinInt32), int32(math.MaxInt32), int32(0)}},
		{Key: "int64", Value: int64(i)<<33 | 5},
		{Key: "int64Edges", Value: bson.A{int64(math.MinInt64), int64(math.MaxInt64), int64(1)}},
		{Key: "double", Value: float64(i) / 7},
		{Key: "doubles", Value: bson.A{1.0, 0.0, -2.5, 1e300, 5e-324, math.MaxFloat64, 0.1 + 0.2, float64(i)}},
		{Key: "date", Value: bson.DateTime(1_700_000_000_000 + int64(i)*86_400_123)},
		{Key: "dates", Value: bson.A{bson.DateTime(0), bson.DateTime(-62_135_596_800_000), bson.DateTime(253_402_300_799_999), bson.DateTime(-1)}},
		{Key: "bin", Value: bson.Binary{Subtype: 0x00, Data: g.bytes(i % 50)}},
		{Key: "bins", Value: bson.A{
			bson.Binary{Subtype: 0x01, Data: []byte("f")},
			bson.Binary{Subtype: 0x02, Data: g.bytes(5)},
			bson.Binary{Subtype: 0x03, Data: g.bytes(16)},
			bson.Binary{Subtype: 0x04, Data: g.bytes(16)},
			bson.Binary{Subtype: 0x05, Data: g.bytes(16)},
			bson.Binary{Subtype: 0x06, Data: g.bytes(3)},
			bson.Binary{Subtype: 0x07, Data: g.bytes(4)},
			bson.Binary{Subtype: 0x08, Data: g.bytes(2)},
			bson.Binary{Subtype: 0x09, Data: []byte{0x03, 0x00, byte(i), 2}},
			bson.Binary{Subtype: 0x80, Data: []byte{}},
		}},
		{Key: "oid", Value: g.oid()},
		{Key: "regex", Value: bson.Regex{Pattern: fmt.Sprintf(`^item-%d\.[a-z]+/"x"$`, i), Options: []string{"", "i", "imsx", "su"}[i%4]}},
		{Key: "ts", Value: bson.Timestamp{T: 1_700_000_000 + uint32(i), I: uint32(i%9 + 1)}},
		{Key: "tsMax", Value: bson.Timestamp{T: math.MaxUint32, I: math.MaxUint32}},
		{Key: "nested", Value: bson.D{
			{Key: "tags", Value: bson.A{"a", int32(i), bson.D{{Key: "deep", Value: bson.A{int64(i), 2.5, bson.D{{Key: "x", Value: bson.A{true, nil}}}}}}}},
			{Key: "when", Value: bson.DateTime(int64(i) * 1000)},
			{Key: "empty", Value: bson.A{}},
		}},
		{Key: "items", Value: bson.A{
			bson.D{{Key: "sku", Value: fmt.Sprintf("s-%d", i)}, {Key: "qty", Value: int32(i % 13)}, {Key: "sizes", Value: bson.A{int32(38), int64(42), 44.5}}},
			bson.D{{Key: "sku", Value: "ünï"}, {Key: "dims", Value: bson.D{{Key: "w", Value: bson.A{1.5, int32(2)}}}}},
		}},
		{Key: "str", Value: "héllo — 日本語 🎉 \"q\" \\ \n\t\x00 </script>"},
		{Key: "flag", Value: i%2 == 0},
		{Key: "nothing", Value: nil},
		{Key: "pad", Value: strings.Repeat("z", 200+i%300)},
	}
}

// TestMongoimportLoadsExport is the mongo-tools oracle: a collection
// exported by snapex (two data files) is loaded into FerretDB with
// mongoimport, file by file, and read back with the driver; every
// document must equal its source byte for byte, types included.
func TestMongoimportLoadsExport(t *testing.T) {
	mongoimport := testenv.Tool(t, "mongoimport")
	ferret := testenv.FerretDB(t)
	e := startExportEnv(t, expProviders{gcs: true})
	ctx := context.Background()

	g := newGen(t, 3)
	typed := &dumpColl{db: "oracle", md: g.meta("typed", nil)}
	for i := range 1800 {
		typed.docs = append(typed.docs, g.raw(g.oracleDoc(i)))
	}
	if typed.bsonBytes() < expChunkBytes {
		t.Fatalf("generator: %d bytes, want more than one chunk", typed.bsonBytes())
	}
	src := map[string][]*dumpColl{"rs0": {typed}}
	dumpDir := filepath.Join(e.dir, "dump-oracle")
	writeDump(t, dumpDir, true, src["rs0"])

	e.gcs.CreateBucket(t, "snapex-e2e-oracle")
	gcsc, err := e.gcs.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gcsc.Close()
	store := gcsStore{gcsc, "snapex-e2e-oracle"}
	bucketID := e.createBucket(t, &admin.DiskBackupSnapshotExportBucketRequest{CloudProvider: "GCP",
		BucketName: admin.PtrString("snapex-e2e-oracle"), RoleId: admin.PtrString(expGCPRole)}, store)
	snapID := e.importSnapshot(t, "Cluster0", dumpDir)
	job := e.waitExport(t, "Cluster0", e.startExport(t, "Cluster0", snapID, bucketID, nil).GetId())

	cl := val(e.api.ClustersApi.GetCluster(ctx, groupID, "Cluster0").Execute()).get(t)
	snap := val(e.api.CloudBackupsApi.GetClusterBackupSnapshot(ctx, groupID, "Cluster0", snapID).Execute()).get(t)
	verifyExport(t, store, expCheck{job: job, rsOrder: []string{"rs0"}, src: src, clusterID: cl.GetId(),
		cluster: "Cluster0", labels: clusterLabels(t, cl, "env=e2e", "team=data & platform"), snapshotAt: snap.GetCreatedAt()})

	nss := expectedLayout(job.GetPrefix(), []string{"rs0"}, src)
	if len(nss) != 1 || len(nss[0].files) < 2 {
		t.Fatalf("expected layout: %d namespaces, want one with ≥ 2 data files", len(nss))
	}
	proxy := testenv.FerretDBCompat(t, ferret)
	imported := regexp.MustCompile(`(\d+) document\(s\) imported successfully\. (\d+) document\(s\) failed to import`)
	for _, f := range nss[0].files {
		body, err := store.read(ctx, f.key)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", f.key, err)
		}
		text, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", f.key, err)
		}
		file := filepath.Join(t.TempDir(), filepath.Base(strings.TrimSuffix(f.key, ".gz")))
		if err := os.WriteFile(file, text, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(mongoimport, "--uri", proxy.URI, "--db", "oracle", "--collection", "typed",
			"--type", "json", "--file", file, "--stopOnError", "--numInsertionWorkers", "1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("mongoimport %s: %v\n%s", f.key, err, out)
		}
		m := imported.FindSubmatch(out)
		if m == nil || string(m[1]) != fmt.Sprint(len(f.docs)) || string(m[2]) != "0" {
			t.Fatalf("mongoimport %s: want %d documents imported and none failed; output:\n%s", f.key, len(f.docs), out)
		}
	}

	t.Logf("the compatibility proxy adapted %d commands", proxy.Rewritten.Load())

	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(ferret))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(context.Background()) }()
	cur, err := client.Database("oracle").Collection("typed").Find(cctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(cctx)
	n, bad := 0, 0
	for cur.Next(cctx) {
		if n >= len(typed.docs) {
			t.Fatalf("FerretDB holds more than the %d source documents", len(typed.docs))
		}
		if want := typed.docs[n]; !bytes.Equal(cur.Current, want) {
			t.Errorf("document %d after mongoimport:\n got  %s\n want %s", n, clip([]byte(cur.Current.String())), clip([]byte(want.String())))
			if bad++; bad >= 5 {
				t.FailNow()
			}
		}
		n++
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	if n != len(typed.docs) {
		t.Fatalf("FerretDB holds %d documents after mongoimport, want %d", n, len(typed.docs))
	}
}
