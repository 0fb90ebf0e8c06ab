package snapshot

import (
	"bytes"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestParseMetadataMatchesDriver: whether the fast parser takes a
// metadata file or leaves it to the driver, the result is what the
// driver alone decodes, in canonical and relaxed form, and bad input is
// refused.
func TestParseMetadataMatchesDriver(t *testing.T) {
	dec, err := bson.ParseDecimal128("1.5")
	if err != nil {
		t.Fatal(err)
	}
	m := &Metadata{
		CollectionName: "orders", Type: TypeCollection, UUID: "0123456789abcdef0123456789abcdef",
		Options: mustRaw(t, bson.D{{Key: "validator", Value: bson.D{{Key: "qty", Value: bson.D{{Key: "$gte", Value: int64(1)}}}}},
			{Key: "collation", Value: bson.D{{Key: "locale", Value: "fr"}, {Key: "strength", Value: int32(2)}}}}),
		Indexes: []bson.Raw{
			mustRaw(t, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "_id", Value: int32(1)}}}, {Key: "name", Value: "_id_"}}),
			mustRaw(t, bson.D{{Key: "v", Value: int32(2)}, {Key: "key", Value: bson.D{{Key: "at", Value: float64(-1)}}}, {Key: "name", Value: "at_-1"}, {Key: "expireAfterSeconds", Value: int32(3600)}}),
		},
	}
	withDecimal := *m
	withDecimal.Options = mustRaw(t, bson.D{{Key: "validator", Value: bson.D{{Key: "price", Value: bson.D{{Key: "$gt", Value: dec}}}}}})
	for _, md := range []*Metadata{m, &withDecimal} {
		canonical, err := md.MarshalMongodump()
		if err != nil {
			t.Fatal(err)
		}
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON(canonical, true, &doc); err != nil {
			t.Fatal(err)
		}
		relaxed, err := bson.MarshalExtJSON(doc, false, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, text := range [][]byte{canonical, relaxed} {
			var want bson.Raw
			if err := bson.UnmarshalExtJSON(text, false, &want); err != nil {
				t.Fatal(err)
			}
			got, err := ParseMetadata(text)
			if err != nil {
				t.Fatalf("ParseMetadata(%s): %v", text, err)
			}
			wantIdx, err := want.Lookup("indexes").Array().Values()
			if err != nil {
				t.Fatal(err)
			}
			if got.CollectionName != md.CollectionName || got.Type != md.Type || got.UUID != md.UUID ||
				!bytes.Equal(got.Options, want.Lookup("options").Document()) || len(got.Indexes) != len(wantIdx) {
				t.Fatalf("ParseMetadata(%s) = %+v, want the driver's %s", text, got, want)
			}
			for i, ix := range wantIdx {
				if !bytes.Equal(got.Indexes[i], ix.Document()) {
					t.Errorf("index %d of %s: got %s, want %s", i, text, got.Indexes[i], ix.Document())
				}
			}
		}
	}
	for _, bad := range []string{`{"indexes": [`, `{"options": 3}`, `{"indexes": {"$numberInt": "x"}}`, `[]`} {
		if _, err := ParseMetadata([]byte(bad)); err == nil {
			t.Errorf("ParseMetadata(%s) succeeded", bad)
		}
	}
}

func mustRaw(t *testing.T, d bson.D) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
