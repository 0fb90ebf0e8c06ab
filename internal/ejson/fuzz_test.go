package ejson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// FuzzAppendDocument feeds arbitrary bytes. AppendDocument must never
// panic; when it accepts the input the driver must accept it too and write
// the same bytes (valid JSON); when the driver accepts the input,
// AppendDocument must accept it as well unless the input is one of the
// documented deliberate differences.
func FuzzAppendDocument(f *testing.F) {
	for _, c := range corpus(f) {
		if len(c.doc) < 64<<10 {
			f.Add(c.doc)
		}
	}
	g := &docGen{r: newRand(1)}
	for range 50 {
		f.Add(g.document(3))
	}
	f.Add([]byte{})
	f.Add([]byte{5, 0, 0, 0, 0, 1})
	f.Add(rawDoc(cat([]byte{typeBinary, 'b', 0}, le32(7), []byte{2}, le32(1), []byte{9, 8, 7})))
	f.Add(rawDoc(cat([]byte{typeCodeScope, 'c', 0}, le32(16), le32(3), []byte("abc"), le32(5), []byte{0})))

	f.Fuzz(func(t *testing.T, data []byte) {
		checkFuzz(t, data)
		// Also try the declared-length prefix, so inputs with trailing
		// bytes still exercise the comparison.
		if len(data) >= 4 {
			if l := int(int32(binary.LittleEndian.Uint32(data))); l >= 5 && l < len(data) {
				checkFuzz(t, data[:l])
			}
		}
	})
}

func checkFuzz(t *testing.T, data []byte) {
	prefix := []byte("[")
	got, err := AppendDocument(bytes.Clone(prefix), data)
	want, derr := driverEJSON(data)

	if err != nil {
		var me *MalformedError
		if !errors.As(err, &me) {
			t.Fatalf("error is not a *MalformedError: %v", err)
		}
		if !bytes.Equal(got, prefix) {
			t.Fatalf("dst changed on error: %q", got)
		}
		if derr == nil && !isDocumentedDifference(err) {
			t.Fatalf("driver accepts the input but AppendDocument says %v\ninput: %x\ndriver: %s", err, data, want)
		}
		return
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("existing dst content changed")
	}
	got = got[len(prefix):]
	if derr != nil {
		t.Fatalf("AppendDocument accepts input the driver rejects (%v)\ninput: %x\nours: %s", derr, data, got)
	}
	if !json.Valid(got) {
		t.Fatalf("output is not valid JSON\ninput: %x\nours: %s", data, got)
	}
	if !bytes.Equal(got, want) && !hasUnsafeDBPointerNS(bsoncore.Document(data)) {
		t.Fatalf("output differs from the driver at byte %d\ninput: %x\n got: %s\nwant: %s", firstDiff(got, want), data, got, want)
	}
}
