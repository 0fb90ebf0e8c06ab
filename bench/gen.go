package main

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/snapex/snapex/internal/snapshot"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// generatorVersion changes whenever the generated data changes, so cached
// datasets made by an older harness are regenerated.
const generatorVersion = 1

// fullBytes is the BSON size of the two large datasets at -scale 1.
const fullBytes = 500 << 20

// tinyCollections is the number of collections of the tiny dataset at
// -scale 1, and tinyDocs the documents in each.
const (
	tinyCollections = 10000
	tinyDocs        = 5
)

// Dataset names, in the order they are measured.
const (
	dsTwenty   = "20coll"
	dsOne      = "1coll"
	dsTiny     = "tiny"
	dsTwentyGz = "20coll-gz"
)

var allDatasets = []string{dsTwenty, dsOne, dsTiny, dsTwentyGz}

// datasetTitles describe the datasets in the results table.
var datasetTitles = map[string]string{
	dsTwenty:   "20 collections of ~1 KiB documents",
	dsOne:      "one collection of ~1 KiB documents",
	dsTiny:     "tiny collections, 5 documents each",
	dsTwentyGz: "20 collections, dump gzip-compressed (snapex only)",
}

// collInfo is one collection of a generated dataset.
type collInfo struct {
	DB         string `json:"db"`
	Name       string `json:"name"`
	Documents  int64  `json:"documents"`
	BSONBytes  int64  `json:"bsonBytes"`
	EJSONBytes int64  `json:"ejsonBytes,omitempty"`
}

// datasetInfo is written next to a generated dump as info.json; a dataset
// directory without it (or with another version or scale) is regenerated.
type datasetInfo struct {
	Name        string     `json:"name"`
	Version     int        `json:"version"`
	Scale       float64    `json:"scale"`
	Gzip        bool       `json:"gzip"`
	Documents   int64      `json:"documents"`
	BSONBytes   int64      `json:"bsonBytes"`
	EJSONBytes  int64      `json:"ejsonBytes,omitempty"`
	Collections []collInfo `json:"collections"`

	dir string // the dataset directory (dump/ and ejson/ inside)
}

// DumpDir is the mongodump-layout directory.
func (d *datasetInfo) DumpDir() string { return filepath.Join(d.dir, "dump") }

// EJSONDir holds the canonical Extended JSON of every collection (one
// document per line), made once for the compression-only limit.
func (d *datasetInfo) EJSONDir() string { return filepath.Join(d.dir, "ejson") }

// BSONFile is the dump file of c.
func (d *datasetInfo) BSONFile(c collInfo) string {
	name := snapshot.EscapeCollectionName(c.Name) + ".bson"
	if d.Gzip {
		name += ".gz"
	}
	return filepath.Join(d.DumpDir(), c.DB, name)
}

// collPlan says what to generate for one collection.
type collPlan struct {
	db, name string
	seed     uint64
	docs     int   // exact number of documents, or 0 to fill bytes
	bytes    int64 // BSON size to reach when docs is 0
}

// datasetDir is where a dataset of the given scale is cached.
func datasetDir(work, name string, scale float64) string {
	return filepath.Join(work, "data", fmt.Sprintf("%s-s%g", name, scale))
}

// loadInfo reads a cached dataset's info.json; ok is false when the
// dataset must be (re)generated.
func loadInfo(dir string, scale float64) (*datasetInfo, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "info.json"))
	if err != nil {
		return nil, false
	}
	var info datasetInfo
	if json.Unmarshal(b, &info) != nil || info.Version != generatorVersion || info.Scale != scale {
		return nil, false
	}
	info.dir = dir
	return &info, true
}

func writeInfo(dir string, info *datasetInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return fmt.Errorf("encode dataset info: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "info.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write dataset info: %w", err)
	}
	return nil
}

// twentyNames are the collections of the 20-collection dataset.
var twentyNames = []string{
	"accounts", "addresses", "audit", "carts", "categories", "customers", "events", "invoices",
	"inventory", "messages", "orders", "payments", "products", "reviews", "sessions", "shipments",
	"suppliers", "tickets", "users", "warehouses",
}

// plans lists the collections of a dataset at a scale.
func plans(name string, scale float64) []collPlan {
	switch name {
	case dsTwenty:
		per := int64(float64(fullBytes)*scale) / int64(len(twentyNames))
		var ps []collPlan
		for i, n := range twentyNames {
			ps = append(ps, collPlan{db: "shop", name: n, seed: uint64(100 + i), bytes: per})
		}
		return ps
	case dsOne:
		return []collPlan{{db: "big", name: "events", seed: 7, bytes: int64(float64(fullBytes) * scale)}}
	case dsTiny:
		n := max(1, int(math.Round(tinyCollections*scale)))
		ps := make([]collPlan, 0, n)
		for i := range n {
			ps = append(ps, collPlan{db: "tiny", name: fmt.Sprintf("c%05d", i), seed: uint64(1_000_000 + i), docs: tinyDocs})
		}
		return ps
	}
	panic("unknown dataset " + name)
}

// ensureDataset returns the dataset, generating it first when it is not
// cached. The gzip variant is derived from the 20-collection dataset.
func ensureDataset(work, name string, scale float64, logf func(string, ...any)) (*datasetInfo, error) {
	dir := datasetDir(work, name, scale)
	if info, ok := loadInfo(dir, scale); ok {
		return info, nil
	}
	if err := removeAll(dir); err != nil {
		return nil, fmt.Errorf("remove stale dataset %s: %w", dir, err)
	}
	tmp := dir + ".partial"
	if err := removeAll(tmp); err != nil {
		return nil, fmt.Errorf("remove partial dataset %s: %w", tmp, err)
	}
	start := time.Now()
	var info *datasetInfo
	var err error
	if name == dsTwentyGz {
		var src *datasetInfo
		if src, err = ensureDataset(work, dsTwenty, scale, logf); err != nil {
			return nil, err
		}
		logf("generating dataset %s (gzip copy of %s) in %s", name, dsTwenty, dir)
		info, err = gzipDataset(src, tmp)
	} else {
		logf("generating dataset %s (scale %g) in %s", name, scale, dir)
		info, err = generate(name, scale, tmp)
	}
	if err != nil {
		return nil, err
	}
	info.Name, info.Version, info.Scale = name, generatorVersion, scale
	if err := writeInfo(tmp, info); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("finish dataset %s: %w", name, err)
	}
	info.dir = dir
	logf("dataset %s: %d collections, %d documents, %.1f MiB BSON, in %s",
		name, len(info.Collections), info.Documents, float64(info.BSONBytes)/(1<<20), time.Since(start).Round(time.Second))
	return info, nil
}

// generate writes a dataset's dump into dir.
func generate(name string, scale float64, dir string) (*datasetInfo, error) {
	ps := plans(name, scale)
	info := &datasetInfo{Collections: make([]collInfo, len(ps)), dir: dir}
	err := parallel(len(ps), runtime.NumCPU(), func(i int) error {
		c, err := writeCollection(filepath.Join(dir, "dump"), ps[i])
		info.Collections[i] = c
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, c := range info.Collections {
		info.Documents += c.Documents
		info.BSONBytes += c.BSONBytes
	}
	return info, nil
}

// writeCollection writes <db>/<coll>.bson and <db>/<coll>.metadata.json.
func writeCollection(dumpDir string, p collPlan) (collInfo, error) {
	c := collInfo{DB: p.db, Name: p.name}
	dbDir := filepath.Join(dumpDir, p.db)
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return c, fmt.Errorf("create %s: %w", dbDir, err)
	}
	rng := rand.New(rand.NewPCG(p.seed, 0x5eed))
	g := newDocGen(rng, uint32(p.seed))
	stem := filepath.Join(dbDir, snapshot.EscapeCollectionName(p.name))
	f, err := os.Create(stem + ".bson")
	if err != nil {
		return c, fmt.Errorf("create collection file: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for (p.docs > 0 && c.Documents < int64(p.docs)) || (p.docs == 0 && c.BSONBytes < p.bytes) {
		doc, err := g.next()
		if err != nil {
			f.Close()
			return c, fmt.Errorf("generate %s.%s: %w", p.db, p.name, err)
		}
		if _, err := w.Write(doc); err != nil {
			f.Close()
			return c, fmt.Errorf("write %s: %w", f.Name(), err)
		}
		c.Documents++
		c.BSONBytes += int64(len(doc))
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return c, fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return c, fmt.Errorf("close %s: %w", f.Name(), err)
	}
	md, err := metadataFor(p.name, rng)
	if err != nil {
		return c, err
	}
	if err := os.WriteFile(stem+".metadata.json", md, 0o644); err != nil {
		return c, fmt.Errorf("write metadata of %s: %w", p.name, err)
	}
	return c, nil
}

// metadataFor is the <coll>.metadata.json mongodump writes for a plain
// collection with its _id index.
func metadataFor(coll string, rng *rand.Rand) ([]byte, error) {
	idx, err := bson.Marshal(bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}})
	if err != nil {
		return nil, fmt.Errorf("encode index of %s: %w", coll, err)
	}
	var uuid [16]byte
	binary.LittleEndian.PutUint64(uuid[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(uuid[8:], rng.Uint64())
	uuid[6] = uuid[6]&0x0f | 0x40
	uuid[8] = uuid[8]&0x3f | 0x80
	md := snapshot.Metadata{
		CollectionName: coll, Type: snapshot.TypeCollection,
		UUID: hex.EncodeToString(uuid[:]), Indexes: []bson.Raw{idx},
	}
	return md.MarshalMongodump()
}

// docGen produces ~1 KiB documents with a realistic mix of BSON types.
type docGen struct {
	rng     *rand.Rand
	machine uint32
	counter uint32
	base    time.Time
}

func newDocGen(rng *rand.Rand, machine uint32) *docGen {
	return &docGen{rng: rng, machine: machine, base: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
}

var (
	firstNames = []string{"Anna", "José", "Zoë", "Björn", "Łukasz", "Chloé", "Mateo", "Ingrid", "Søren", "Amélie", "Noah", "Yuki", "Oğuz", "Kai", "Émile", "Leila"}
	lastNames  = []string{"Müller", "García", "Nakamura", "O'Brien", "Nørgaard", "Dvořák", "Smith", "Kowalski", "Rossi", "Öztürk", "Lefèvre", "Ivanov", "Chen", "Silva"}
	cities     = []string{"Zürich", "東京", "São Paulo", "Kraków", "Москва", "İstanbul", "Reykjavík", "München", "القاهرة", "Paris", "Lisboa", "Αθήνα", "서울", "New York"}
	streets    = []string{"Hauptstraße", "Rue de la Paix", "Calle Mayor", "Main Street", "Ulica Długa", "Via Roma", "Kungsgatan", "Rua Augusta"}
	tagWords   = []string{"new", "vip", "sale", "gift", "priority", "b2b", "returning", "eu", "apac", "promo", "beta", "archived"}
	// notes carry characters JSON must escape: quotes, backslashes,
	// control characters, U+2028/U+2029, HTML-ish characters and emoji.
	notes = []string{
		`He said "ship it" and left.`,
		"path C:\\Users\\data\\export.csv",
		"line one\nline two\ttabbed",
		"bell\x07 and unit separator\x1f inside",
		"separators \u2028 and \u2029 here",
		"<b>bold</b> & 'quoted' > less",
		"emoji 😀🚀 and accents: naïve café",
		"null char \x00 in the middle",
		"plain ascii note without anything special",
	}
	loremWords = []string{"lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do",
		"eiusmod", "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua", "enim", "minim",
		"veniam", "quis", "nostrud", "exercitation", "ullamco", "laboris", "nisi", "aliquip", "commodo",
		"consequat", "größe", "très", "niño", "日本語", "ελληνικά"}
)

func pick[T any](rng *rand.Rand, xs []T) T { return xs[rng.IntN(len(xs))] }

func (g *docGen) objectID() bson.ObjectID {
	var id bson.ObjectID
	g.counter++
	ts := uint32(g.base.Unix()) + g.counter/8
	binary.BigEndian.PutUint32(id[0:4], ts)
	binary.BigEndian.PutUint32(id[4:8], g.machine)
	id[8] = byte(g.counter >> 16)
	id[9] = byte(g.counter >> 8)
	id[10] = byte(g.counter)
	id[11] = byte(g.rng.IntN(256))
	return id
}

func (g *docGen) date() bson.DateTime {
	return bson.NewDateTimeFromTime(g.base.Add(time.Duration(g.rng.Int64N(int64(3 * 365 * 24 * time.Hour)))).Truncate(time.Millisecond))
}

// next returns the next document, between ~600 and ~1450 bytes (about
// 1 KiB on average).
func (g *docGen) next() ([]byte, error) {
	r := g.rng
	nItems := 1 + r.IntN(3)
	items := make(bson.A, 0, nItems)
	for range nItems {
		items = append(items, bson.D{
			{Key: "sku", Value: fmt.Sprintf("SKU-%06d", r.IntN(1_000_000))},
			{Key: "qty", Value: int32(1 + r.IntN(20))},
			{Key: "price", Value: math.Round(r.Float64()*50000) / 100},
			{Key: "options", Value: bson.D{{Key: "color", Value: pick(r, []string{"red", "blue", "grün", "noir"})}, {Key: "gift", Value: r.IntN(5) == 0}}},
		})
	}
	tags := bson.A{}
	for range r.IntN(5) {
		tags = append(tags, pick(r, tagWords))
	}
	first, last := pick(r, firstNames), pick(r, lastNames)
	d := bson.D{
		{Key: "_id", Value: g.objectID()},
		{Key: "name", Value: first + " " + last},
		{Key: "email", Value: fmt.Sprintf("user%d@example.com", r.IntN(10_000_000))},
		{Key: "age", Value: int32(18 + r.IntN(70))},
		{Key: "visits", Value: r.Int64N(1 << 40)},
		{Key: "score", Value: r.NormFloat64() * 1000},
		{Key: "ratio", Value: float64(r.IntN(100))},
		{Key: "createdAt", Value: g.date()},
		{Key: "updatedAt", Value: g.date()},
		{Key: "active", Value: r.IntN(3) != 0},
		{Key: "note", Value: pick(r, notes)},
		{Key: "address", Value: bson.D{
			{Key: "street", Value: fmt.Sprintf("%s %d", pick(r, streets), 1+r.IntN(300))},
			{Key: "city", Value: pick(r, cities)},
			{Key: "zip", Value: fmt.Sprintf("%05d", r.IntN(100000))},
			{Key: "geo", Value: bson.D{{Key: "type", Value: "Point"}, {Key: "coordinates", Value: bson.A{r.Float64()*360 - 180, r.Float64()*180 - 90}}}},
		}},
		{Key: "tags", Value: tags},
		{Key: "items", Value: items},
		{Key: "history", Value: bson.A{int32(r.IntN(1000)), int64(r.Int64N(1 << 50)), r.Float64(), g.date()}},
	}
	if r.IntN(4) == 0 {
		d = append(d, bson.E{Key: "balance", Value: bson.NewDecimal128(0x3040000000000000, uint64(r.Int64N(1<<40)))})
	}
	if r.IntN(6) == 0 {
		blob := make([]byte, 16+r.IntN(48))
		for i := range blob {
			blob[i] = byte(r.IntN(256))
		}
		d = append(d, bson.E{Key: "avatarHash", Value: bson.Binary{Subtype: 0, Data: blob}})
	}
	if r.IntN(8) == 0 {
		u := make([]byte, 16)
		binary.LittleEndian.PutUint64(u[:8], r.Uint64())
		binary.LittleEndian.PutUint64(u[8:], r.Uint64())
		d = append(d, bson.E{Key: "sessionId", Value: bson.Binary{Subtype: 4, Data: u}})
	}
	if r.IntN(4) == 0 {
		d = append(d, bson.E{Key: "deletedAt", Value: nil})
	}
	doc, err := bson.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("marshal document: %w", err)
	}
	target := 600 + r.IntN(850)
	return appendStringElem(doc, "description", g.lorem(target-len(doc)-len("description")-7)), nil
}

// lorem returns words of about n bytes (at least a few).
func (g *docGen) lorem(n int) string {
	var b strings.Builder
	for b.Len() < max(n, 12) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(pick(g.rng, loremWords))
	}
	return b.String()
}

// appendStringElem adds a string element at the end of a BSON document.
func appendStringElem(doc []byte, key, val string) []byte {
	out := make([]byte, 0, len(doc)+len(key)+len(val)+7)
	out = append(out, doc[:len(doc)-1]...)
	out = append(out, 0x02)
	out = append(out, key...)
	out = append(out, 0)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(val)+1))
	out = append(out, val...)
	out = append(out, 0, 0)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out
}

// gzipDataset writes a gzip-compressed copy of src's dump (".bson.gz" and
// ".metadata.json.gz", as mongodump --gzip does) into dir.
func gzipDataset(src *datasetInfo, dir string) (*datasetInfo, error) {
	info := &datasetInfo{Gzip: true, Documents: src.Documents, BSONBytes: src.BSONBytes, dir: dir}
	info.Collections = append(info.Collections, src.Collections...)
	err := parallel(len(src.Collections), runtime.NumCPU(), func(i int) error {
		c := src.Collections[i]
		stem := filepath.Join(src.DumpDir(), c.DB, snapshot.EscapeCollectionName(c.Name))
		dst := filepath.Join(dir, "dump", c.DB, snapshot.EscapeCollectionName(c.Name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
		}
		if err := gzipFile(stem+".bson", dst+".bson.gz"); err != nil {
			return err
		}
		return gzipFile(stem+".metadata.json", dst+".metadata.json.gz")
	})
	if err != nil {
		return nil, err
	}
	return info, nil
}

func gzipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("gzip: %w", err)
	}
	zw := gzip.NewWriter(out)
	if _, err := io.Copy(zw, in); err != nil {
		out.Close()
		return fmt.Errorf("gzip %s: %w", src, err)
	}
	if err := zw.Close(); err != nil {
		out.Close()
		return fmt.Errorf("gzip %s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("gzip %s: %w", dst, err)
	}
	return nil
}

// ensureEJSON converts every collection of info to canonical Extended JSON
// (the driver's MarshalExtJSON, one document per line; what bsondump
// writes) unless that was done before. The limit contender compresses
// these files.
func ensureEJSON(info *datasetInfo, logf func(string, ...any)) error {
	if info.EJSONBytes > 0 {
		if _, err := os.Stat(info.EJSONDir()); err == nil {
			return nil
		}
	}
	start := time.Now()
	logf("converting dataset %s to Extended JSON (untimed, for the limit)", info.Name)
	tmp := info.EJSONDir() + ".partial"
	if err := removeAll(tmp); err != nil {
		return fmt.Errorf("remove %s: %w", tmp, err)
	}
	err := parallel(len(info.Collections), runtime.NumCPU(), func(i int) error {
		c := &info.Collections[i]
		dst := filepath.Join(tmp, c.DB, snapshot.EscapeCollectionName(c.Name)+".json")
		n, err := convertEJSON(info.BSONFile(*c), dst)
		c.EJSONBytes = n
		return err
	})
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, info.EJSONDir()); err != nil {
		return fmt.Errorf("finish Extended JSON of %s: %w", info.Name, err)
	}
	info.EJSONBytes = 0
	for _, c := range info.Collections {
		info.EJSONBytes += c.EJSONBytes
	}
	logf("dataset %s: %.1f MiB of Extended JSON (%.2f× the BSON) in %s", info.Name,
		float64(info.EJSONBytes)/(1<<20), float64(info.EJSONBytes)/float64(info.BSONBytes), time.Since(start).Round(time.Second))
	return writeInfo(info.dir, info)
}

func convertEJSON(src, dst string) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	in, err := os.Open(src)
	if err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return 0, fmt.Errorf("convert: %w", err)
	}
	w := bufio.NewWriterSize(out, 1<<20)
	var n int64
	err = forEachDoc(bufio.NewReaderSize(in, 1<<20), func(doc []byte) error {
		j, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
		if err != nil {
			return fmt.Errorf("document %d of %s: %w", n, src, err)
		}
		j = append(j, '\n')
		n += int64(len(j))
		_, err = w.Write(j)
		return err
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("convert %s: %w", src, err)
	}
	return n, nil
}

// forEachDoc calls fn with each document of a BSON stream; the slice is
// reused between calls.
func forEachDoc(r io.Reader, fn func(doc []byte) error) error {
	var buf []byte
	var hdr [4]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read document length: %w", err)
		}
		n := int(binary.LittleEndian.Uint32(hdr[:]))
		if n < 5 || n > 48<<20 {
			return fmt.Errorf("bad document length %d", n)
		}
		if cap(buf) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		copy(buf, hdr[:])
		if _, err := io.ReadFull(r, buf[4:]); err != nil {
			return fmt.Errorf("read document: %w", err)
		}
		if err := fn(buf); err != nil {
			return err
		}
	}
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// first error.
func parallel(n, workers int, fn func(i int) error) error {
	var (
		mu    sync.Mutex
		first error
		next  int
		wg    sync.WaitGroup
	)
	for range min(workers, n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := first != nil
				mu.Unlock()
				if stop || i >= n {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return first
}

// fileTree lists the regular files under dir with their sizes, sorted by
// path (WalkDir is lexical), skipping directories whose names start with a dot.
func fileTree(dir string) ([]string, []int64, error) {
	var paths []string
	var sizes []int64
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() {
			if p != dir && strings.HasPrefix(e.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return err
		}
		paths = append(paths, p)
		sizes = append(sizes, fi.Size())
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return paths, sizes, nil
}
