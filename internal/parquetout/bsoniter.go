package parquetout

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The driver's bson.Raw.Elements builds a slice of elements (and
// RawValue.StringValue a string) for every document and value; on an
// export that is most of the garbage. elemIter walks a document's bytes in
// place instead; the value's length rules stay the driver's
// (bsoncore.ReadValue).

// errMalformed reports bytes that are not a well-formed BSON document.
var errMalformed = errors.New("malformed BSON")

// elemIter yields the elements of one BSON document without allocating.
type elemIter struct {
	rest []byte
}

// iterDoc starts iterating doc, an embedded document or array included.
func iterDoc(doc []byte) (elemIter, error) {
	if len(doc) < 5 {
		return elemIter{}, fmt.Errorf("%w: document of %d bytes", errMalformed, len(doc))
	}
	n := int(binary.LittleEndian.Uint32(doc))
	if n != len(doc) || doc[n-1] != 0 {
		return elemIter{}, fmt.Errorf("%w: document length %d in %d bytes", errMalformed, n, len(doc))
	}
	return elemIter{rest: doc[4 : n-1]}, nil
}

// next returns the next element's key and value; ok is false after the
// last one.
func (it *elemIter) next() (key []byte, v bson.RawValue, ok bool, err error) {
	if len(it.rest) == 0 {
		return nil, bson.RawValue{}, false, nil
	}
	t := bsoncore.Type(it.rest[0])
	end := bytes.IndexByte(it.rest[1:], 0)
	if end < 0 {
		return nil, bson.RawValue{}, false, fmt.Errorf("%w: unterminated key", errMalformed)
	}
	key = it.rest[1 : 1+end]
	val, rem, ok := bsoncore.ReadValue(it.rest[2+end:], t)
	if !ok {
		return nil, bson.RawValue{}, false, fmt.Errorf("%w: value of %q (type %#x)", errMalformed, key, byte(t))
	}
	it.rest = rem
	return key, bson.RawValue{Type: bson.Type(t), Value: val.Data}, true, nil
}

// stringBytes is the UTF-8 of a string value without its length prefix and
// terminating NUL.
func stringBytes(v bson.RawValue) ([]byte, error) {
	d := v.Value
	if len(d) < 5 || int(binary.LittleEndian.Uint32(d)) != len(d)-4 || d[len(d)-1] != 0 {
		return nil, fmt.Errorf("%w: string value", errMalformed)
	}
	return d[4 : len(d)-1], nil
}

// binaryBytes is the payload of a binary value (subtype dropped).
func binaryBytes(v bson.RawValue) ([]byte, error) {
	d := v.Value
	if len(d) < 5 {
		return nil, fmt.Errorf("%w: binary value", errMalformed)
	}
	data := d[5:]
	if d[4] == 0x02 { // the old binary subtype nests a second length
		if len(data) < 4 || int(binary.LittleEndian.Uint32(data)) != len(data)-4 {
			return nil, fmt.Errorf("%w: binary subtype 2 value", errMalformed)
		}
		data = data[4:]
	}
	return data, nil
}
