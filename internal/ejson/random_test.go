package ejson

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// docGen builds random but valid BSON documents biased towards edge cases.
type docGen struct{ r *rand.Rand }

var strPieces = []string{
	"a", "abc", "hello world", "0123456789abcdef", " ", `"`, `\`, "/", "<", ">", "&", "'", "\n", "\r", "\t",
	"\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "é", "ß", "中文", "🎉", "\u2028", "\u2029", "\ufffd", "\x80",
	"\xff", "\xc3", "\xe2\x80", "\xed\xb0\x80", "\xf0\x9f", "$", ".", "{}", "[]", ":", ",",
}

func (g *docGen) str(allowNUL bool) string {
	var b strings.Builder
	for range g.r.IntN(12) {
		p := strPieces[g.r.IntN(len(strPieces))]
		if !allowNUL && strings.Contains(p, "\x00") {
			continue
		}
		if g.r.IntN(8) == 0 {
			p = strings.Repeat(p, 1+g.r.IntN(20))
		}
		b.WriteString(p)
	}
	return b.String()
}

var edgeDoubles = []float64{0, math.Copysign(0, -1), 1, -1, 0.5, 1e6, 999999, 1e21, 1e-5, 1e-4, math.MaxFloat64,
	math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 1 << 53, 123.456}

func (g *docGen) double() float64 {
	switch g.r.IntN(5) {
	case 0:
		return edgeDoubles[g.r.IntN(len(edgeDoubles))]
	case 1:
		return math.Float64frombits(g.r.Uint64())
	case 2:
		return float64(g.r.IntN(2_000_001) - 1_000_000)
	case 3:
		return float64(g.r.IntN(100000)) / 100
	default:
		return g.r.NormFloat64() * math.Pow(10, float64(g.r.IntN(60)-30))
	}
}

func (g *docGen) int64() int64 {
	switch g.r.IntN(4) {
	case 0:
		return []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt32, math.MinInt32}[g.r.IntN(7)]
	case 1:
		return int64(g.r.Uint64())
	default:
		return g.r.Int64N(1<<41) - 1<<40
	}
}

func (g *docGen) decimal() (uint64, uint64) {
	h, l := g.r.Uint64(), g.r.Uint64()
	if g.r.IntN(2) == 0 {
		exp := uint64(6176 + g.r.IntN(60) - 45)
		h = h&(1<<63) | exp<<49 | (h&(1<<49-1))>>uint(g.r.IntN(50))
		l >>= uint(g.r.IntN(64))
	}
	return h, l
}

func (g *docGen) oid() (o [12]byte) {
	for i := range o {
		o[i] = byte(g.r.UintN(256))
	}
	return o
}

func (g *docGen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.r.UintN(256))
	}
	return b
}

func (g *docGen) document(depth int) []byte {
	n := g.r.IntN(10)
	elems := make([][]byte, 0, n)
	for range n {
		elems = append(elems, g.element(g.str(false), depth))
	}
	return doc(elems...)
}

func (g *docGen) array(depth int) []byte {
	n := g.r.IntN(8)
	elems := make([][]byte, 0, n)
	for i := range n {
		elems = append(elems, g.element(itoa(i), depth))
	}
	return doc(elems...)
}

func (g *docGen) element(key string, depth int) []byte {
	t := g.r.IntN(22)
	if depth <= 0 && (t == 2 || t == 3 || t == 14) {
		t = 0
	}
	switch t {
	case 0:
		return bsoncore.AppendDoubleElement(nil, key, g.double())
	case 1:
		return bsoncore.AppendStringElement(nil, key, g.str(true))
	case 2:
		return bsoncore.AppendDocumentElement(nil, key, g.document(depth-1))
	case 3:
		return bsoncore.AppendArrayElement(nil, key, g.array(depth-1))
	case 4:
		sub := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x80, 0xff, byte(g.r.UintN(256))}[g.r.IntN(13)]
		return bsoncore.AppendBinaryElement(nil, key, sub, g.bytes(g.r.IntN(40)))
	case 5:
		return bsoncore.AppendUndefinedElement(nil, key)
	case 6:
		return bsoncore.AppendObjectIDElement(nil, key, g.oid())
	case 7:
		return bsoncore.AppendBooleanElement(nil, key, g.r.IntN(2) == 0)
	case 8:
		return bsoncore.AppendDateTimeElement(nil, key, g.int64())
	case 9:
		return bsoncore.AppendNullElement(nil, key)
	case 10:
		opts := []string{"", "i", "imsx", "xmsi", "ux", g.str(false)}[g.r.IntN(6)]
		return bsoncore.AppendRegexElement(nil, key, g.str(false), opts)
	case 11:
		ns := []string{"db.coll", "a.b.c", "", "dé.x", "test.system.views"}[g.r.IntN(5)]
		return bsoncore.AppendDBPointerElement(nil, key, ns, g.oid())
	case 12:
		return bsoncore.AppendJavaScriptElement(nil, key, g.str(true))
	case 13:
		return bsoncore.AppendSymbolElement(nil, key, g.str(true))
	case 14:
		return bsoncore.AppendCodeWithScopeElement(nil, key, g.str(true), g.document(depth-1))
	case 15:
		return bsoncore.AppendInt32Element(nil, key, int32(g.int64()))
	case 16:
		return bsoncore.AppendTimestampElement(nil, key, uint32(g.r.Uint64()), uint32(g.r.Uint64()))
	case 17:
		return bsoncore.AppendInt64Element(nil, key, g.int64())
	case 18:
		h, l := g.decimal()
		return bsoncore.AppendDecimal128Element(nil, key, h, l)
	case 19:
		return bsoncore.AppendMinKeyElement(nil, key)
	case 20:
		return bsoncore.AppendMaxKeyElement(nil, key)
	default:
		return bsoncore.AppendInt32Element(nil, key, int32(g.r.Uint32()))
	}
}

func TestRandomDocumentsMatchDriver(t *testing.T) {
	g := &docGen{r: newRand(20261122)}
	const n = 10000
	total := 0
	for i := range n {
		d := g.document(4)
		total += len(d)
		checkSame(t, "random document "+itoa(i), d)
	}
	t.Logf("%d random documents, %d bytes of BSON, identical to the driver", n, total)
}
