package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file generates mongodump directories for the end-to-end export
// tests: documents of every BSON type, collections of every kind Atlas
// treats differently (large, empty, indexed, views, system collections,
// internal databases), written as mongodump writes them, gzip or not.

// dumpColl is one namespace of a generated mongodump tree.
type dumpColl struct {
	db   string
	md   snapshot.Metadata
	docs []bson.Raw // in dump order; nil for a view
}

func (c *dumpColl) name() string { return c.md.CollectionName }

// exported reports whether Atlas exports the namespace: user collections
// and system.js; never views, other system collections, or the admin,
// local and config databases.
func (c *dumpColl) exported() bool {
	switch {
	case c.db == "admin" || c.db == "local" || c.db == "config":
		return false
	case c.md.IsView():
		return false
	case c.name() == "system.js":
		return true
	case strings.HasPrefix(c.name(), "system."):
		return false
	}
	return true
}

// bsonBytes is the total size of the collection's documents.
func (c *dumpColl) bsonBytes() int {
	n := 0
	for _, d := range c.docs {
		n += len(d)
	}
	return n
}

// writeDump writes colls into dir as mongodump does: one directory per
// database holding <coll>.bson and <coll>.metadata.json (with ".gz" and
// gzip content when gz is set); collection names are file-name escaped the
// way mongodump escapes them. Views get only a metadata file.
func writeDump(t testing.TB, dir string, gz bool, colls []*dumpColl) {
	t.Helper()
	suffix := ""
	if gz {
		suffix = ".gz"
	}
	for _, c := range colls {
		dbDir := filepath.Join(dir, c.db)
		if err := os.MkdirAll(dbDir, 0o750); err != nil {
			t.Fatal(err)
		}
		stem := snapshot.EscapeCollectionName(c.name())
		meta, err := c.md.MarshalMongodump()
		if err != nil {
			t.Fatal(err)
		}
		writeDumpFile(t, filepath.Join(dbDir, stem+".metadata.json"+suffix), meta, gz)
		if c.md.IsView() {
			continue
		}
		var data bytes.Buffer
		for _, d := range c.docs {
			data.Write(d)
		}
		writeDumpFile(t, filepath.Join(dbDir, stem+".bson"+suffix), data.Bytes(), gz)
	}
}

func writeDumpFile(t testing.TB, path string, data []byte, gz bool) {
	t.Helper()
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(data); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		data = buf.Bytes()
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// gen makes deterministic test data.
type gen struct {
	t testing.TB
	r *rand.Rand
}

func newGen(t testing.TB, seed uint64) *gen {
	return &gen{t: t, r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

func (g *gen) raw(v any) bson.Raw {
	g.t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		g.t.Fatalf("bson.Marshal: %v", err)
	}
	return b
}

func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.Uint32())
	}
	return b
}

func (g *gen) oid() bson.ObjectID {
	var id bson.ObjectID
	copy(id[:], g.bytes(12))
	return id
}

func (g *gen) uuid() string { return hex.EncodeToString(g.bytes(16)) }

func (g *gen) dec(s string) bson.Decimal128 {
	g.t.Helper()
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		g.t.Fatalf("decimal %q: %v", s, err)
	}
	return d
}

// meta builds collection metadata with the default _id index and extra
// indexes.
func (g *gen) meta(name string, options bson.D, indexes ...bson.D) snapshot.Metadata {
	md := snapshot.Metadata{CollectionName: name, Type: snapshot.TypeCollection, UUID: g.uuid(), Options: g.raw(bson.D{})}
	if options != nil {
		md.Options = g.raw(options)
	}
	md.Indexes = append(md.Indexes, g.raw(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}))
	for _, ix := range indexes {
		md.Indexes = append(md.Indexes, g.raw(ix))
	}
	return md
}

// allTypesDoc holds one value of every BSON type, with the edge values of
// the numeric types and strings that need JSON escaping.
func (g *gen) allTypesDoc(id bson.ObjectID) bson.D {
	ref := g.oid()
	sixteen := g.bytes(16)
	deep := bson.D{{Key: "leaf", Value: "bottom"}}
	for i := range 60 {
		if i%2 == 0 {
			deep = bson.D{{Key: fmt.Sprintf("d%d", i), Value: deep}}
		} else {
			deep = bson.D{{Key: fmt.Sprintf("a%d", i), Value: bson.A{deep, int32(i)}}}
		}
	}
	return bson.D{
		{Key: "_id", Value: id},
		// Doubles, with every value JSON cannot write as a plain number.
		{Key: "double", Value: 3.141592653589793},
		{Key: "doubleWhole", Value: 1.0},
		{Key: "doubleBig", Value: math.MaxFloat64},
		{Key: "doubleSubnormal", Value: 5e-324},
		{Key: "doubleNeg", Value: -2.5e-10},
		{Key: "doubleExp", Value: 1e21},
		{Key: "nan", Value: math.NaN()},
		{Key: "posInf", Value: math.Inf(1)},
		{Key: "negInf", Value: math.Inf(-1)},
		{Key: "negZero", Value: math.Copysign(0, -1)},
		// Strings.
		{Key: "string", Value: "plain"},
		{Key: "unicode", Value: "héllo wörld — 日本語 🎉 \u00e9\u0301"},
		{Key: "escapes", Value: "quote\" backslash\\ slash/ nl\n cr\r tab\t bs\b ff\f nul\x00 soh\x01 us\x1f del\x7f ls\u2028 ps\u2029 <script>&'"},
		{Key: "emptyString", Value: ""},
		// Documents and arrays.
		{Key: "doc", Value: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: bson.D{{Key: "c", Value: bson.A{int32(1), bson.A{int32(2), bson.A{"three"}}}}}}}},
		{Key: "emptyDoc", Value: bson.D{}},
		{Key: "array", Value: bson.A{int32(1), "two", 3.0, int64(4), bson.A{}, bson.D{}, nil, true, bson.A{bson.A{bson.A{int32(7)}}}}},
		{Key: "emptyArray", Value: bson.A{}},
		{Key: "deep", Value: deep},
		// Binary, every defined subtype plus a user-defined one.
		{Key: "binGeneric", Value: bson.Binary{Subtype: 0x00, Data: []byte{0, 1, 2, 0xfe, 0xff}}},
		{Key: "binEmpty", Value: bson.Binary{Subtype: 0x00, Data: []byte{}}},
		{Key: "binFunction", Value: bson.Binary{Subtype: 0x01, Data: []byte("fn")}},
		{Key: "binOld", Value: bson.Binary{Subtype: 0x02, Data: []byte("old binary")}},
		{Key: "uuidOld", Value: bson.Binary{Subtype: 0x03, Data: sixteen}},
		{Key: "uuid", Value: bson.Binary{Subtype: 0x04, Data: sixteen}},
		{Key: "md5", Value: bson.Binary{Subtype: 0x05, Data: g.bytes(16)}},
		{Key: "encrypted", Value: bson.Binary{Subtype: 0x06, Data: g.bytes(33)}},
		{Key: "column", Value: bson.Binary{Subtype: 0x07, Data: g.bytes(9)}},
		{Key: "sensitive", Value: bson.Binary{Subtype: 0x08, Data: []byte("secret")}},
		{Key: "vector", Value: bson.Binary{Subtype: 0x09, Data: []byte{0x03, 0x00, 1, 2, 0xff}}},
		{Key: "binUser", Value: bson.Binary{Subtype: 0x80, Data: g.bytes(7)}},
		// The rest, in BSON type-number order.
		{Key: "undefined", Value: bson.Undefined{}},
		{Key: "oid", Value: ref},
		{Key: "true", Value: true},
		{Key: "false", Value: false},
		{Key: "date", Value: bson.DateTime(1_700_000_000_123)},
		{Key: "dateEpoch", Value: bson.DateTime(0)},
		{Key: "dateYear1", Value: bson.DateTime(-62_135_596_800_000)},
		{Key: "dateYear10000", Value: bson.DateTime(253_402_300_800_000)},
		{Key: "dateMin", Value: bson.DateTime(math.MinInt64)},
		{Key: "null", Value: nil},
		{Key: "regex", Value: bson.Regex{Pattern: `^a.*b\d+$`, Options: "imsx"}},
		{Key: "regexEmpty", Value: bson.Regex{Pattern: "", Options: ""}},
		{Key: "regexQuote", Value: bson.Regex{Pattern: `a/b"c\\`, Options: "u"}},
		{Key: "dbPointer", Value: bson.DBPointer{DB: "shop.things", Pointer: ref}},
		{Key: "javascript", Value: bson.JavaScript("function () { return \"x\" + 1; }")},
		{Key: "symbol", Value: bson.Symbol("a symbol")},
		{Key: "codeWithScope", Value: bson.CodeWithScope{Code: "function () { return x; }", Scope: bson.D{{Key: "x", Value: int32(42)}, {Key: "y", Value: bson.A{"z"}}}}},
		{Key: "int32", Value: int32(42)},
		{Key: "int32Min", Value: int32(math.MinInt32)},
		{Key: "int32Max", Value: int32(math.MaxInt32)},
		{Key: "int32Zero", Value: int32(0)},
		{Key: "timestamp", Value: bson.Timestamp{T: 1_700_000_000, I: 7}},
		{Key: "timestampMax", Value: bson.Timestamp{T: math.MaxUint32, I: math.MaxUint32}},
		{Key: "int64", Value: int64(1) << 40},
		{Key: "int64Min", Value: int64(math.MinInt64)},
		{Key: "int64Max", Value: int64(math.MaxInt64)},
		{Key: "int64Small", Value: int64(-1)},
		{Key: "decimal", Value: g.dec("1234567.890123456789")},
		{Key: "decimalNegZero", Value: g.dec("-0.00")},
		{Key: "decimalNaN", Value: g.dec("NaN")},
		{Key: "decimalInf", Value: g.dec("Infinity")},
		{Key: "decimalNegInf", Value: g.dec("-Infinity")},
		{Key: "decimalMax", Value: g.dec("9.999999999999999999999999999999999E+6144")},
		{Key: "decimalTiny", Value: g.dec("1E-6176")},
		{Key: "minKey", Value: bson.MinKey{}},
		{Key: "maxKey", Value: bson.MaxKey{}},
		// Field names that need care.
		{Key: "dbref", Value: bson.D{{Key: "$ref", Value: "things"}, {Key: "$id", Value: ref}, {Key: "$db", Value: "shop"}}},
		{Key: "dotted.name", Value: int32(1)},
		{Key: "ключ 🔑", Value: "значение"},
		{Key: "we\"ird\\key\n\t", Value: int32(2)},
		{Key: "", Value: "empty field name"},
	}
}

// randomValue returns a value of a random BSON type.
func (g *gen) randomValue(depth int) any {
	switch k := g.r.IntN(24); {
	case k == 0 && depth < 3:
		d := bson.D{}
		for j := range g.r.IntN(4) {
			d = append(d, bson.E{Key: fmt.Sprintf("k%d", j), Value: g.randomValue(depth + 1)})
		}
		return d
	case k == 1 && depth < 3:
		a := bson.A{}
		for range g.r.IntN(5) {
			a = append(a, g.randomValue(depth+1))
		}
		return a
	case k == 2:
		return g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(40)-20))
	case k == 3:
		return []any{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0.1, 1e300}[g.r.IntN(6)]
	case k == 4:
		return int32(g.r.Uint32())
	case k == 5:
		return int64(g.r.Uint64())
	case k == 6:
		return g.dec(fmt.Sprintf("%d.%03dE%d", g.r.IntN(1_000_000)-500_000, g.r.IntN(1000), g.r.IntN(60)-30))
	case k == 7:
		return bson.DateTime(g.r.Int64N(4_000_000_000_000) - 1_000_000_000_000)
	case k == 8:
		return bson.Binary{Subtype: []byte{0, 3, 4, 5, 0x80}[g.r.IntN(5)], Data: g.bytes(g.r.IntN(40))}
	case k == 9:
		return g.oid()
	case k == 10:
		return bson.Regex{Pattern: fmt.Sprintf("^x%d[a-z]+$", g.r.IntN(100)), Options: []string{"", "i", "im", "msx"}[g.r.IntN(4)]}
	case k == 11:
		return bson.Timestamp{T: g.r.Uint32(), I: g.r.Uint32N(1000) + 1}
	case k == 12:
		return nil
	case k == 13:
		return g.r.IntN(2) == 0
	case k == 14:
		return []any{bson.MinKey{}, bson.MaxKey{}, bson.Undefined{}}[g.r.IntN(3)]
	case k == 15:
		return bson.JavaScript(fmt.Sprintf("function () { return %d; }", g.r.IntN(100)))
	case k == 16:
		return bson.Symbol(fmt.Sprintf("sym%d", g.r.IntN(100)))
	case k == 17:
		return bson.CodeWithScope{Code: "function () { return n; }", Scope: bson.D{{Key: "n", Value: int32(g.r.IntN(100))}}}
	case k == 18:
		return bson.DBPointer{DB: "shop.other", Pointer: g.oid()}
	case k == 19:
		return "ünïcödé \"q\" \\ \n " + strings.Repeat("é", g.r.IntN(20))
	default:
		const letters = "abcdefghijklmnopqrstuvwxyz0123456789 "
		b := make([]byte, g.r.IntN(60))
		for i := range b {
			b[i] = letters[g.r.IntN(len(letters))]
		}
		return string(b)
	}
}

// randomDoc is a document with an _id of a varying type and random fields.
func (g *gen) randomDoc(i int) bson.D {
	var id any
	switch i % 4 {
	case 0:
		id = g.oid()
	case 1:
		id = int64(i)
	case 2:
		id = fmt.Sprintf("doc-%06d", i)
	default:
		id = bson.D{{Key: "n", Value: int32(i)}, {Key: "part", Value: "x"}}
	}
	d := bson.D{{Key: "_id", Value: id}, {Key: "seq", Value: int32(i)}}
	for j := range 3 + g.r.IntN(8) {
		d = append(d, bson.E{Key: fmt.Sprintf("f%d", j), Value: g.randomValue(0)})
	}
	return d
}

// replicaSetDump is the source of the replica-set export tests.
func replicaSetDump(t testing.TB) []*dumpColl {
	g := newGen(t, 1)
	var colls []*dumpColl

	// shop.everything: every BSON type, custom indexes and options.
	every := &dumpColl{db: "shop", md: g.meta("everything",
		bson.D{{Key: "validator", Value: bson.D{{Key: "qty", Value: bson.D{{Key: "$gte", Value: int32(0)}}}}}, {Key: "validationLevel", Value: "moderate"}},
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "sku", Value: int32(1)}}}, {Key: "name", Value: "sku_1"}, {Key: "unique", Value: true}},
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "customer.id", Value: int32(1)}, {Key: "createdAt", Value: int32(-1)}}}, {Key: "name", Value: "customer.id_1_createdAt_-1"},
			{Key: "partialFilterExpression", Value: bson.D{{Key: "qty", Value: bson.D{{Key: "$gt", Value: int32(0)}}}}}},
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "createdAt", Value: int32(1)}}}, {Key: "name", Value: "ttl"}, {Key: "expireAfterSeconds", Value: int32(3600)}},
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_fts", Value: "text"}, {Key: "_ftsx", Value: int32(1)}}}, {Key: "name", Value: "title_text"},
			{Key: "weights", Value: bson.D{{Key: "title", Value: int32(1)}}}, {Key: "default_language", Value: "english"}, {Key: "language_override", Value: "language"}, {Key: "textIndexVersion", Value: int32(3)}},
		bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "loc", Value: "2dsphere"}}}, {Key: "name", Value: "loc_2dsphere"}, {Key: "2dsphereIndexVersion", Value: int32(3)}, {Key: "sparse", Value: true}},
	)}
	every.docs = append(every.docs, g.raw(g.allTypesDoc(g.oid())))
	for i := range 300 {
		every.docs = append(every.docs, g.raw(g.randomDoc(i)))
	}
	// A 100 KB string in the middle.
	every.docs = slices.Insert(every.docs, 150, g.raw(bson.D{{Key: "_id", Value: "long"}, {Key: "s", Value: strings.Repeat("long string ", 9000)}}))
	colls = append(colls, every)

	// shop.big: ≥ 3 chunks at 1 MiB, with one document larger than a chunk.
	big := &dumpColl{db: "shop", md: g.meta("big", bson.D{{Key: "capped", Value: false}})}
	for i := range 3400 {
		d := g.randomDoc(i)
		d = append(d, bson.E{Key: "pad", Value: strings.Repeat("p", 600+g.r.IntN(400))})
		if i == 1700 {
			d = append(d, bson.E{Key: "huge", Value: bson.Binary{Subtype: 0, Data: g.bytes(1_300_000)}})
		}
		big.docs = append(big.docs, g.raw(d))
	}
	colls = append(colls, big)

	// shop.empty: no documents.
	colls = append(colls, &dumpColl{db: "shop", md: g.meta("empty", nil), docs: []bson.Raw{}})

	// shop.everything_view: a view; never exported.
	colls = append(colls, &dumpColl{db: "shop", md: snapshot.Metadata{CollectionName: "everything_view", Type: snapshot.TypeView,
		Options: g.raw(bson.D{{Key: "viewOn", Value: "everything"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "seq", Value: bson.D{{Key: "$gt", Value: int32(5)}}}}}}}}})}})

	// shop.system.profile: a system collection; never exported.
	prof := &dumpColl{db: "shop", md: g.meta("system.profile", bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int64(1 << 20)}})}
	prof.md.Indexes = nil
	for i := range 5 {
		prof.docs = append(prof.docs, g.raw(bson.D{{Key: "op", Value: "query"}, {Key: "ns", Value: "shop.everything"}, {Key: "millis", Value: int32(i)}}))
	}
	colls = append(colls, prof)

	// shop.system.js: stored functions; exported, as Atlas does.
	js := &dumpColl{db: "shop", md: g.meta("system.js", nil)}
	js.docs = append(js.docs,
		g.raw(bson.D{{Key: "_id", Value: "add"}, {Key: "value", Value: bson.JavaScript("function (a, b) { return a + b; }")}}),
		g.raw(bson.D{{Key: "_id", Value: "scaled"}, {Key: "value", Value: bson.CodeWithScope{Code: "function (a) { return a * k; }", Scope: bson.D{{Key: "k", Value: 3.5}}}}}))
	colls = append(colls, js)

	// A second database, with collection names that need escaping in
	// file names.
	for _, name := range []string{"données", "events.2024"} {
		c := &dumpColl{db: "analytics", md: g.meta(name, nil)}
		for i := range 40 {
			c.docs = append(c.docs, g.raw(g.randomDoc(i)))
		}
		colls = append(colls, c)
	}

	// Internal databases; never exported.
	colls = append(colls,
		&dumpColl{db: "admin", md: g.meta("system.version", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "featureCompatibilityVersion"}, {Key: "version", Value: "7.0"}})}},
		&dumpColl{db: "admin", md: g.meta("users", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "u"}})}},
		&dumpColl{db: "config", md: g.meta("settings", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "balancer"}})}},
	)
	return colls
}

// shardedDump is the source of the sharded-cluster export test: a
// sharded collection spread over both shards (one of them holding
// several chunks' worth), unsharded collections on their primary shards,
// a sharded collection with no documents on one shard, a view, and the
// config server's internal databases.
func shardedDump(t testing.TB) map[string][]*dumpColl {
	g := newGen(t, 2)
	orders := g.meta("orders", nil, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "customerId", Value: "hashed"}}}, {Key: "name", Value: "customerId_hashed"}})
	sparse := g.meta("sparse", nil)
	withDocs := func(md snapshot.Metadata, from, n, pad int) *dumpColl {
		c := &dumpColl{db: "shop", md: md, docs: []bson.Raw{}}
		for i := from; i < from+n; i++ {
			d := g.randomDoc(i)
			if pad > 0 {
				d = append(d, bson.E{Key: "pad", Value: strings.Repeat("q", pad)})
			}
			c.docs = append(c.docs, g.raw(d))
		}
		return c
	}
	shard0 := []*dumpColl{
		withDocs(orders, 0, 2500, 800),
		withDocs(g.meta("customers", nil), 0, 50, 0),
		withDocs(sparse, 0, 30, 0),
		{db: "shop", md: snapshot.Metadata{CollectionName: "orders_view", Type: snapshot.TypeView,
			Options: g.raw(bson.D{{Key: "viewOn", Value: "orders"}, {Key: "pipeline", Value: bson.A{}}})}},
		{db: "admin", md: g.meta("system.version", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "shardIdentity"}})}},
	}
	inventory := &dumpColl{db: "inventory", md: g.meta("items", nil)}
	for i := range 70 {
		inventory.docs = append(inventory.docs, g.raw(g.randomDoc(i)))
	}
	shard1 := []*dumpColl{
		withDocs(orders, 10_000, 300, 100),
		withDocs(sparse, 10_000, 0, 0),
		inventory,
		{db: "admin", md: g.meta("system.version", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "shardIdentity"}})}},
	}
	configRS := []*dumpColl{
		{db: "config", md: g.meta("collections", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "shop.orders"}})}},
		{db: "config", md: g.meta("chunks", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "ns", Value: "shop.orders"}, {Key: "shard", Value: "shard0"}})}},
		{db: "admin", md: g.meta("system.version", nil), docs: []bson.Raw{g.raw(bson.D{{Key: "_id", Value: "featureCompatibilityVersion"}})}},
	}
	return map[string][]*dumpColl{"shard0": shard0, "shard1": shard1, "configRS": configRS}
}
