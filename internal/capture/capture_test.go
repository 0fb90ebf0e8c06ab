package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/snapex/snapex/internal/snapshot"
	"github.com/snapex/snapex/internal/testenv"
)

// namespace is a database and collection name.
type namespace struct{ db, coll string }

func (n namespace) String() string { return n.db + "." + n.coll }

// loadFixture fills a server with several databases and collections: every
// BSON type FerretDB stores, an odd collection name, a capped collection, an
// empty one, system.js, several indexes, and namespaces that must be left
// out. It returns the namespaces a capture must contain.
func loadFixture(t *testing.T, client *mongo.Client) []namespace {
	t.Helper()
	ctx := context.Background()
	app := client.Database("app")

	var docs []any
	for i := range 300 {
		docs = append(docs, ferretTypedDoc(i))
	}
	// Field order, a document _id and several _id types are kept as stored.
	docs = append(docs,
		bson.D{{Key: "_id", Value: bson.D{{Key: "b", Value: 1}, {Key: "a", Value: 2}}}, {Key: "z", Value: 1}, {Key: "a", Value: 2}},
		bson.D{{Key: "_id", Value: "string id"}},
		bson.D{{Key: "_id", Value: int64(42)}},
		bson.D{{Key: "_id", Value: 2.5}},
		bson.D{{Key: "_id", Value: bson.Binary{Subtype: 0, Data: []byte{1, 2}}}},
	)
	insertAll(t, app.Collection("types"), docs)
	types := app.Collection("types")
	if _, err := types.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "int32", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)},
		{Keys: bson.D{{Key: "string", Value: -1}, {Key: "date", Value: 1}}, Options: options.Index().SetName("by_string_date")},
		{Keys: bson.D{{Key: "doc.z", Value: 1}}},
	}); err != nil {
		t.Fatal(err)
	}

	// Enough documents for many batches at the capture's batch size.
	docs = docs[:0]
	for i := range 1500 {
		docs = append(docs, bson.D{{Key: "_id", Value: int32(i)}, {Key: "pad", Value: strings.Repeat("p", i%300)}, {Key: "n", Value: int64(i * i)}})
	}
	insertAll(t, app.Collection("with/slash and space"), docs)

	if err := app.CreateCollection(ctx, "capped", options.CreateCollection().SetCapped(true).SetSizeInBytes(1<<20)); err != nil {
		t.Fatal(err)
	}
	insertAll(t, app.Collection("capped"), []any{bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "_id", Value: 2}}})
	if err := app.CreateCollection(ctx, "empty"); err != nil {
		t.Fatal(err)
	}
	if _, err := app.Collection("empty").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}}); err != nil {
		t.Fatal(err)
	}
	// FerretDB cannot store JavaScript values; system.js is still captured.
	insertAll(t, app.Collection("system.js"), []any{bson.D{{Key: "_id", Value: "f"}, {Key: "value", Value: "function(){}"}}})
	// Left out: other system collections, admin and config.
	insertAll(t, app.Collection("system.other"), []any{bson.D{{Key: "_id", Value: 1}}})
	insertAll(t, client.Database("admin").Collection("kept_out"), []any{bson.D{{Key: "_id", Value: 1}}})
	insertAll(t, client.Database("config").Collection("kept_out"), []any{bson.D{{Key: "_id", Value: 1}}})

	shop := client.Database("shop-2")
	docs = docs[:0]
	for i := range 500 {
		docs = append(docs, bson.D{{Key: "_id", Value: bson.NewObjectID()}, {Key: "sku", Value: fmt.Sprintf("sku-%04d", i)}, {Key: "qty", Value: int32(i % 7)}})
	}
	insertAll(t, shop.Collection("orders"), docs)
	if _, err := shop.Collection("orders").Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}

	return []namespace{
		{"app", "capped"}, {"app", "empty"}, {"app", "system.js"}, {"app", "types"},
		{"app", "with/slash and space"}, {"shop-2", "orders"},
	}
}

// listCollectionInfo returns the listCollections entry of db.coll.
func listCollectionInfo(t *testing.T, client *mongo.Client, ns namespace) bson.Raw {
	t.Helper()
	specs, err := client.Database(ns.db).ListCollections(context.Background(), bson.D{{Key: "name", Value: ns.coll}})
	if err != nil {
		t.Fatal(err)
	}
	defer specs.Close(context.Background())
	if !specs.Next(context.Background()) {
		t.Fatalf("%s: not listed (%v)", ns, specs.Err())
	}
	return append(bson.Raw(nil), specs.Current...)
}

// listIndexesRaw returns listIndexes' documents for db.coll.
func listIndexesRaw(t *testing.T, client *mongo.Client, ns namespace) []bson.Raw {
	t.Helper()
	cur, err := client.Database(ns.db).Collection(ns.coll).Indexes().List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(context.Background())
	var out []bson.Raw
	for cur.Next(context.Background()) {
		out = append(out, append(bson.Raw(nil), cur.Current...))
	}
	return out
}

// TestTakeFerretDB captures a FerretDB deployment and checks the snapshot
// against the server: every document byte for byte in natural order,
// options, UUIDs, indexes, the manifest; then bsondump and mongorestore
// read it.
func TestTakeFerretDB(t *testing.T) {
	uri := testenv.FerretDB(t)
	client := connectClient(t, uri)
	want := loadFixture(t, client)
	st := newStorage(t)
	ctx := context.Background()

	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	m, err := Take(ctx, Options{
		SnapshotID:  "snap-1",
		ClusterName: "Cluster0",
		CreatedAt:   created,
		ReplicaSets: []Source{{Name: "rs0", URI: uri}},
		Storage:     st,
		Parallelism: 3,
		BatchSize:   97, // many getMores
		Logger:      testLogger(t),
	})
	if err != nil {
		t.Fatal(err)
	}

	// The manifest.
	var buildInfo struct {
		Version string `bson:"version"`
	}
	if err := client.Database("admin").RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&buildInfo); err != nil {
		t.Fatal(err)
	}
	if m.ID != "snap-1" || m.ClusterName != "Cluster0" || !m.CreatedAt.Equal(created) || m.Type != snapshot.ClusterReplicaSet {
		t.Errorf("manifest header: id %q cluster %q created %v type %q", m.ID, m.ClusterName, m.CreatedAt, m.Type)
	}
	if m.MongodVersion != buildInfo.Version || m.MongodVersion == "" {
		t.Errorf("mongodVersion %q, buildInfo says %q", m.MongodVersion, buildInfo.Version)
	}
	// FerretDB is no replica set and has no oplog: nothing can be promised.
	if c := m.Consistency; c.Guarantee != snapshot.GuaranteeNone || c.ClusterTime != nil || c.OplogStart != nil || c.OplogEnd != nil {
		t.Errorf("consistency %+v, want none without times", c)
	}
	if len(m.ReplicaSets) != 1 || m.ReplicaSets[0].Name != "rs0" {
		t.Fatalf("replica sets %+v", m.ReplicaSets)
	}
	var got []namespace
	for _, c := range m.ReplicaSets[0].Collections {
		got = append(got, namespace{c.DB, c.Name})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("captured namespaces\n%v\nwant\n%v", got, want)
	}

	s, err := snapshot.Open(ctx, st, "snap-1")
	if err != nil {
		t.Fatal(err)
	}
	rs := &m.ReplicaSets[0]
	var totalDocs int64
	for _, ns := range want {
		c, _ := rs.Collection(ns.db, ns.coll)
		coll := client.Database(ns.db).Collection(ns.coll)

		// Documents: exactly what a driver find returns, in natural order.
		fromServer := naturalDocs(t, coll)
		fromSnapshot := snapshotDocs(t, s, "rs0", ns.db, ns.coll)
		compareDocs(t, ns.String(), fromSnapshot, fromServer)
		var size int64
		for _, d := range fromServer {
			size += int64(len(d))
		}
		if c.DocumentCount != int64(len(fromServer)) || c.BSONBytes != size || c.Type != snapshot.TypeCollection {
			t.Errorf("%s: manifest count %d bytes %d type %q, server has %d documents of %d bytes",
				ns, c.DocumentCount, c.BSONBytes, c.Type, len(fromServer), size)
		}
		if c.CompressedBytes <= 0 {
			t.Errorf("%s: compressed size %d", ns, c.CompressedBytes)
		}
		totalDocs += c.DocumentCount

		// Metadata: options, UUID and indexes as the server lists them.
		md, err := s.ReadMetadata(ctx, "rs0", ns.db, ns.coll)
		if err != nil {
			t.Fatal(err)
		}
		info := listCollectionInfo(t, client, ns)
		wantOpts := info.Lookup("options").Document()
		gotOpts := md.Options
		if len(gotOpts) == 0 {
			gotOpts = bson.Raw{5, 0, 0, 0, 0}
		}
		if !bytes.Equal(gotOpts, wantOpts) {
			t.Errorf("%s: options %s, server %s", ns, gotOpts, wantOpts)
		}
		_, uuid := info.Lookup("info", "uuid").Binary()
		if md.UUID != hex.EncodeToString(uuid) || c.UUID != md.UUID || len(md.UUID) != 32 {
			t.Errorf("%s: uuid %q (manifest %q), server %x", ns, md.UUID, c.UUID, uuid)
		}
		if md.CollectionName != ns.coll || md.Type != snapshot.TypeCollection {
			t.Errorf("%s: metadata name %q type %q", ns, md.CollectionName, md.Type)
		}
		wantIdx := listIndexesRaw(t, client, ns)
		compareDocs(t, ns.String()+" indexes", md.Indexes, wantIdx)
		if c.IndexCount != len(wantIdx) {
			t.Errorf("%s: index count %d, want %d", ns, c.IndexCount, len(wantIdx))
		}
	}
	if m.TotalDocuments() != totalDocs || totalDocs != 305+1500+2+1+500 {
		t.Errorf("total documents %d (sum %d)", m.TotalDocuments(), totalDocs)
	}
	if c, _ := rs.Collection("app", "capped"); !strings.Contains(string(c.Options), `"capped":true`) {
		t.Errorf("capped options %s", c.Options)
	}
	if md, _ := s.ReadMetadata(ctx, "rs0", "app", "types"); len(md.Indexes) != 4 {
		t.Errorf("app.types has %d indexes, want 4", len(md.Indexes))
	}

	// A second capture under the same id is refused and leaves the first.
	if _, err := Take(ctx, Options{SnapshotID: "snap-1", ReplicaSets: []Source{{Name: "rs0", URI: uri}}, Storage: st}); !errors.Is(err, snapshot.ErrExists) {
		t.Errorf("second Take under the same id: %v, want ErrExists", err)
	}
	if _, err := snapshot.Open(ctx, st, "snap-1"); err != nil {
		t.Errorf("first snapshot after the refused second: %v", err)
	}

	t.Run("bsondump", func(t *testing.T) { checkBsondump(t, st, m) })
	t.Run("mongorestore", func(t *testing.T) { checkMongorestore(t, client, st, m, want) })
}

// checkBsondump runs bsondump over every data file (after gunzip) and
// compares its output with the canonical Extended JSON of the snapshot's
// documents.
func checkBsondump(t *testing.T, st *dirStorage, m *snapshot.Manifest) {
	bsondump := testenv.Tool(t, "bsondump")
	s, err := snapshot.Open(context.Background(), st, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	for _, c := range m.ReplicaSets[0].Collections {
		plain := filepath.Join(tmp, fmt.Sprintf("%s.%d.bson", c.DB, len(c.Name)))
		if err := os.WriteFile(plain, gunzipFile(t, filepath.Join(st.Dir(), filepath.FromSlash(s.Key(c.DataFile)))), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bsondump, "--bsonFile", plain)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("bsondump %s.%s: %v\n%s", c.DB, c.Name, err, stderr.String())
		}
		var lines []string
		sc := bufio.NewScanner(&stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		docs := snapshotDocs(t, s, "rs0", c.DB, c.Name)
		if len(lines) != len(docs) {
			t.Fatalf("%s.%s: bsondump printed %d documents, snapshot has %d", c.DB, c.Name, len(lines), len(docs))
		}
		for i, d := range docs {
			js, err := bson.MarshalExtJSON(d, true, false)
			if err != nil {
				t.Fatal(err)
			}
			if lines[i] != string(js) {
				t.Fatalf("%s.%s document %d:\nbsondump: %s\nwant:     %s", c.DB, c.Name, i, lines[i], js)
			}
		}
		if want := fmt.Sprintf("%d objects found", len(docs)); !strings.Contains(stderr.String(), want) {
			t.Errorf("%s.%s: bsondump summary %q lacks %q", c.DB, c.Name, stderr.String(), want)
		}
	}
}

// checkMongorestore restores the replica set's tree with mongorestore
// --gzip into a second FerretDB (through testenv's compatibility proxy,
// which removes the two fields mongo-tools send that FerretDB v1 refuses)
// and compares data and indexes with the source.
func checkMongorestore(t *testing.T, source *mongo.Client, st *dirStorage, m *snapshot.Manifest, want []namespace) {
	targetURI := testenv.FerretDB(t)
	target := connectClient(t, targetURI)
	compat := testenv.FerretDBCompat(t, targetURI)
	rsDir := filepath.Join(st.Dir(), m.ID, m.ReplicaSets[0].Dir)
	out, err := exec.Command(testenv.Tool(t, "mongorestore"), "--uri", compat.URI, "--gzip", "--dir", rsDir).CombinedOutput()
	// mongorestore reads every metadata file before inserting anything.
	for _, ns := range want {
		line := fmt.Sprintf("reading metadata for %s from %s", ns, filepath.Join(rsDir, ns.db, snapshot.EscapeCollectionName(ns.coll)+".metadata.json.gz"))
		if !bytes.Contains(out, []byte(line)) {
			t.Errorf("mongorestore output lacks %q", line)
		}
	}
	if err != nil {
		t.Fatalf("mongorestore: %v\n%s", err, out)
	}
	if compat.Rewritten.Load() == 0 {
		t.Fatal("the compatibility proxy saw no command to adapt; is it in the path?")
	}
	for _, ns := range want {
		compareDocs(t, ns.String()+" restored", naturalDocs(t, target.Database(ns.db).Collection(ns.coll)),
			naturalDocs(t, source.Database(ns.db).Collection(ns.coll)))
	}
	compareIndexes(t, source, target, want)
}

// compareIndexes checks that target has the source's indexes (name, key,
// unique, sparse) on every namespace.
func compareIndexes(t *testing.T, source, target *mongo.Client, want []namespace) {
	t.Helper()
	describe := func(c *mongo.Client, ns namespace) []string {
		var out []string
		for _, ix := range listIndexesRaw(t, c, ns) {
			s := ix.Lookup("name").StringValue() + " " + ix.Lookup("key").String()
			for _, opt := range []string{"unique", "sparse"} {
				if v, err := ix.LookupErr(opt); err == nil && v.Boolean() {
					s += " " + opt
				}
			}
			out = append(out, s)
		}
		sort.Strings(out)
		return out
	}
	for _, ns := range want {
		if ns.coll == "system.js" {
			continue
		}
		got, exp := describe(target, ns), describe(source, ns)
		if !slices.Equal(got, exp) || len(exp) == 0 {
			t.Errorf("%s: restored indexes %q, source %q", ns, got, exp)
		}
	}
}
