package ejson

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// everyType is a document with every BSON type, edge values included.
func everyType(i int) bson.D {
	dec, _ := bson.ParseDecimal128(fmt.Sprintf("%d.5E-3", i))
	return bson.D{
		{Key: "_id", Value: bson.ObjectID{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{Key: "double", Value: float64(i) / 3}, {Key: "whole", Value: float64(i)}, {Key: "negzero", Value: math.Copysign(0, -1)},
		{Key: "inf", Value: math.Inf(1)}, {Key: "ninf", Value: math.Inf(-1)}, {Key: "nan", Value: math.NaN()},
		{Key: "big", Value: 1e300}, {Key: "tiny", Value: 5e-324},
		{Key: "str", Value: fmt.Sprintf("é ✓ \x00 \x01 \"q\" \\ / \u2028 🎉 %d", i)}, {Key: "empty", Value: ""},
		{Key: "doc", Value: bson.D{{Key: "a", Value: bson.D{}}, {Key: "", Value: int32(1)}, {Key: "k.dot", Value: true}}},
		{Key: "arr", Value: bson.A{bson.A{int32(1)}, bson.A{}, nil, "x"}},
		{Key: "b0", Value: bson.Binary{Subtype: 0, Data: []byte{0xfb, 0xff, byte(i)}}},
		{Key: "b2", Value: bson.Binary{Subtype: 2, Data: []byte{1, 2, 3}}},
		{Key: "b4", Value: bson.Binary{Subtype: 4, Data: bytes.Repeat([]byte{byte(i)}, 16)}},
		{Key: "b80", Value: bson.Binary{Subtype: 0x80, Data: nil}},
		{Key: "undef", Value: bson.Undefined{}},
		{Key: "oid", Value: bson.ObjectID{}},
		{Key: "t", Value: true}, {Key: "f", Value: false},
		{Key: "date", Value: bson.DateTime(1_700_000_000_000 + int64(i))}, {Key: "dateOld", Value: bson.DateTime(-62_135_596_800_001)},
		{Key: "dateFar", Value: bson.DateTime(math.MaxInt64)},
		{Key: "null", Value: nil},
		{Key: "re", Value: bson.Regex{Pattern: `^a\/"b"$`, Options: "imsux"}}, {Key: "re0", Value: bson.Regex{}},
		{Key: "ptr", Value: bson.DBPointer{DB: "db.c", Pointer: bson.ObjectID{1}}},
		{Key: "code", Value: bson.JavaScript("function(){}")},
		{Key: "sym", Value: bson.Symbol("sym")},
		{Key: "cws", Value: bson.CodeWithScope{Code: "x", Scope: bson.D{{Key: "x", Value: int32(1)}}}},
		{Key: "i32", Value: int32(-i)}, {Key: "i32min", Value: int32(math.MinInt32)}, {Key: "i32max", Value: int32(math.MaxInt32)},
		{Key: "ts", Value: bson.Timestamp{T: math.MaxUint32, I: uint32(i)}},
		{Key: "i64", Value: int64(i)}, {Key: "i64min", Value: int64(math.MinInt64)}, {Key: "i64big", Value: int64(1) << 40},
		{Key: "dec", Value: dec},
		{Key: "min", Value: bson.MinKey{}}, {Key: "max", Value: bson.MaxKey{}},
	}
}

// renderings returns doc as the driver writes it canonical and relaxed,
// and as snapex's export writes it.
func renderings(t testing.TB, doc bson.D) [][]byte {
	raw, err := bson.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, canonical := range []bool{true, false} {
		b, err := bson.MarshalExtJSON(bson.Raw(raw), canonical, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	b, err := AppendDocument(nil, raw)
	if err != nil {
		t.Fatal(err)
	}
	// Whitespace between tokens is allowed.
	spaced := strings.NewReplacer(`":`, `" : `, `,"`, `, "`).Replace(string(b))
	return append(out, b, []byte(" "+spaced+" \n"))
}

// checkAgainstDriver fails if AppendBSON accepts text and produces other
// bytes than the driver, or accepts what the driver refuses.
func checkAgainstDriver(t testing.TB, text []byte) bool {
	got, ok := AppendBSON(nil, text)
	if !ok {
		return false
	}
	var want bson.Raw
	if err := bson.UnmarshalExtJSON(text, false, &want); err != nil {
		t.Fatalf("AppendBSON accepts what the driver refuses (%v):\n%s", err, text)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("AppendBSON differs from the driver on\n%s\n got  %x\n want %x", text, got, []byte(want))
	}
	return true
}

// TestAppendBSONMatchesDriver: on every type in every rendering, AppendBSON
// produces the driver's bytes or declines; it covers snapex's canonical
// output in full.
func TestAppendBSONMatchesDriver(t *testing.T) {
	accepted := 0
	for i := range 40 {
		for j, text := range renderings(t, everyType(i)) {
			if checkAgainstDriver(t, text) {
				accepted++
			} else if j == 2 {
				// Decimal128, code and DBPointer send the whole document
				// to the driver; check that the rest alone is covered.
				d := everyType(i)
				var kept bson.D
				for _, e := range d {
					switch e.Key {
					case "dec", "ptr", "code", "cws":
					default:
						kept = append(kept, e)
					}
				}
				if !checkAgainstDriver(t, renderings(t, kept)[2]) {
					t.Fatalf("AppendBSON declines snapex's canonical rendering of\n%s", renderings(t, kept)[2])
				}
			}
		}
	}
	// Relaxed dates in the shapes the fast path takes and in others.
	for _, d := range []string{"1970-01-01T00:00:00Z", "2023-11-14T22:13:20.5Z", "2023-11-14T22:13:20.05Z", "2024-02-29T23:59:59.999Z",
		"9999-12-31T23:59:59.999Z", "2023-02-31T00:00:00Z", "2023-11-14T22:13:20.1234Z", "2023-11-14T22:13:20+01:00", "1969-12-31T23:59:59Z"} {
		text := []byte(`{"_id":1,"d":{"$date":"` + d + `"}}`)
		if ok := checkAgainstDriver(t, text); ok != (strings.Count(d, "Z") == 1 && !strings.Contains(d, "02-31") && !strings.Contains(d, "1234") && !strings.HasPrefix(d, "1969")) {
			t.Errorf("AppendBSON on %s: accepted %v", text, ok)
		}
	}
	relaxedDates := 0
	for i := range 40 {
		if checkAgainstDriver(t, renderings(t, bson.D{{Key: "_id", Value: int32(i)}, {Key: "d", Value: bson.DateTime(1_700_000_000_000 + int64(i)*123_457)}})[1]) {
			relaxedDates++
		}
	}
	if relaxedDates != 40 {
		t.Errorf("AppendBSON took %d of 40 relaxed dates the driver wrote", relaxedDates)
	}
	// Realistic exported documents: all taken but those holding a
	// Decimal128, which the driver parses.
	for _, doc := range benchDocs(200) {
		line, err := AppendDocument(nil, doc)
		if err != nil {
			t.Fatal(err)
		}
		if !checkAgainstDriver(t, line) && !bytes.Contains(line, []byte(`"$numberDecimal"`)) {
			t.Fatalf("AppendBSON declines an exported document:\n%s", line)
		}
	}
	t.Logf("AppendBSON accepted %d of %d renderings of every type", accepted, 40*4)
}

// FuzzAppendBSON: whatever AppendBSON accepts, the driver parses to the
// same bytes.
func FuzzAppendBSON(f *testing.F) {
	for i := range 3 {
		for _, text := range renderings(f, everyType(i)) {
			f.Add(text)
		}
	}
	f.Add([]byte(`{"a":{"$binary":{"base64":"AQI=","subType":"2"}},"b":-0,"c":1e5,"d":"\ud83c\udf89"}`))
	f.Fuzz(func(t *testing.T, text []byte) {
		checkAgainstDriver(t, text)
	})
}

// TestParseDocument: ParseDocument gives the driver's bytes whether
// AppendBSON takes the document or leaves it to the driver, and refuses
// what is not Extended JSON.
func TestParseDocument(t *testing.T) {
	for i := range 5 {
		for _, text := range renderings(t, everyType(i)) { // Decimal128 sends these to the driver
			checkParseDocument(t, text)
		}
	}
	checkParseDocument(t, []byte(`{"_id":{"$oid":"0123456789abcdef01234567"},"n":{"$numberLong":"7"}}`)) // the fast path's
	for _, bad := range []string{`{"a":`, `[1]`, `{"a":{"$numberInt":"x"}}`, ``} {
		if _, err := ParseDocument([]byte(bad)); err == nil {
			t.Errorf("ParseDocument(%q) succeeded", bad)
		}
	}
}

func checkParseDocument(t *testing.T, text []byte) {
	t.Helper()
	got, err := ParseDocument(text)
	if err != nil {
		t.Fatalf("ParseDocument(%s): %v", text, err)
	}
	var want bson.Raw
	if err := bson.UnmarshalExtJSON(text, false, &want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ParseDocument(%s) = %x, want the driver's %x", text, []byte(got), []byte(want))
	}
}

// TestAppendBSONKeepsToJSONNumbers: numbers outside JSON's grammar (a
// leading zero or plus, a bare dot, an empty exponent) are declined like
// the driver refuses them; numbers inside it give the driver's bytes.
func TestAppendBSONKeepsToJSONNumbers(t *testing.T) {
	for _, n := range []string{"00", "01", "-01", "+1", "1.", "-", "1e", "1e+", "01.5", "1.e5", "--1", "1-2", "0e", "1E-"} {
		text := []byte(`{"a":` + n + `}`)
		if _, ok := AppendBSON(nil, text); ok {
			t.Errorf("AppendBSON accepts the number %s, which JSON does not allow", n)
		}
	}
	for _, n := range []string{"0", "-0", "7", "-12", "0.5", "-0.5", "1e5", "1E+5", "2.5e-3", "2147483648", "-9223372036854775808", "10.0"} {
		text := []byte(`{"a":` + n + `}`)
		if !checkAgainstDriver(t, text) {
			t.Errorf("AppendBSON declines the number %s, which JSON allows", n)
		}
	}
}
