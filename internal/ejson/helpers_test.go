package ejson

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// driverEJSON is the reference: what the driver (and so bsondump) writes.
// A driver panic counts as a rejection.
func driverEJSON(doc []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("driver panicked: %v", r)
		}
	}()
	return bson.MarshalExtJSON(bson.Raw(doc), true, false)
}

// checkSame asserts that AppendDocument and the driver agree on doc: both
// succeed with identical, valid JSON. It also checks that AppendDocument
// appends after existing content without touching it.
func checkSame(t testing.TB, name string, doc []byte) {
	t.Helper()
	want, err := driverEJSON(doc)
	if err != nil {
		t.Fatalf("%s: driver rejected the test document: %v", name, err)
	}
	prefix := []byte("prefix\n")
	got, err := AppendDocument(bytes.Clone(prefix), doc)
	if err != nil {
		t.Fatalf("%s: AppendDocument: %v", name, err)
	}
	if !bytes.HasPrefix(got, prefix) {
		t.Fatalf("%s: existing dst content was changed: %q", name, got[:min(len(got), len(prefix))])
	}
	got = got[len(prefix):]
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: output differs from the driver at byte %d\n got: %s\nwant: %s",
			name, firstDiff(got, want), clip(got), clip(want))
	}
	if !json.Valid(got) {
		t.Fatalf("%s: output is not valid JSON: %s", name, clip(got))
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func clip(b []byte) string {
	if len(b) > 600 {
		return fmt.Sprintf("%q…(%d bytes)", b[:600], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// isDocumentedDifference reports whether err is one of the rejections of
// driver-accepted input that AppendDocument makes on purpose.
func isDocumentedDifference(err error) bool {
	return errors.Is(err, errTrailingBytes) || errors.Is(err, errOldBinaryLength) || errors.Is(err, errCodeNotTerminated)
}

// hasUnsafeDBPointerNS reports whether a valid document contains, at any
// depth, a DBPointer whose namespace the driver writes differently (raw)
// from AppendDocument (escaped).
func hasUnsafeDBPointerNS(doc bsoncore.Document) bool {
	elems, err := doc.Elements()
	if err != nil {
		return false
	}
	for _, e := range elems {
		v := e.Value()
		switch v.Type {
		case bsoncore.TypeDBPointer:
			ns, _, ok := v.DBPointerOK()
			if ok {
				esc := appendString(nil, []byte(ns))
				if !bytes.Equal(esc[1:len(esc)-1], []byte(ns)) {
					return true
				}
			}
		case bsoncore.TypeEmbeddedDocument, bsoncore.TypeArray:
			if hasUnsafeDBPointerNS(bsoncore.Document(v.Data[:min(len(v.Data), lenPrefix(v.Data))])) {
				return true
			}
		case bsoncore.TypeCodeWithScope:
			if _, scope, ok := v.CodeWithScopeOK(); ok && hasUnsafeDBPointerNS(scope) {
				return true
			}
		}
	}
	return false
}

func lenPrefix(b []byte) int {
	if len(b) < 4 {
		return 0
	}
	return int(int32(binary.LittleEndian.Uint32(b)))
}

// doc builds a BSON document from elements made with bsoncore.Append*Element.
func doc(elems ...[]byte) []byte { return bsoncore.BuildDocument(nil, elems...) }

// arr builds a BSON array document from values.
func arr(values ...bsoncore.Value) []byte { return bsoncore.BuildArray(nil, values...) }

// rawDoc wraps a hand-written element list (without length and terminator)
// into a document with a correct length.
func rawDoc(body []byte) []byte {
	d := binary.LittleEndian.AppendUint32(nil, uint32(len(body)+5))
	d = append(d, body...)
	return append(d, 0)
}

func le32(v int32) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(v)) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
