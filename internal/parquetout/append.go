package parquetout

import (
	"encoding/hex"
	"fmt"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/snapex/snapex/internal/ejson"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// appender adds documents to the builders of one RecordBuilder following
// a Schema; its buffers are reused from document to document.
type appender struct {
	s    *Schema
	root *slot
	doc  *slot    // full-document column, nil when off
	json []byte   // Extended JSON scratch
	wrap []byte   // BSON scratch for a lone value
	hex  [24]byte // ObjectId scratch
	ten  *big.Int
}

// slot pairs a column with its builder, resolved once: a RecordBuilder
// keeps its builders from record to record, so appending walks this tree
// instead of looking each child builder up per value.
type slot struct {
	c    *column
	b    array.Builder
	kids []*slot // struct fields, in column order
	elem *slot   // list element
	// n and data are the values and bytes the builder held in the last
	// record: cutting a record hands the builder's buffers over, and
	// growing new ones by doubling copied each value several times.
	n, data int
}

// binaryOf is b's variable-length builder, or nil.
func binaryOf(b array.Builder) *array.BinaryBuilder {
	switch b := b.(type) {
	case *array.StringBuilder:
		return b.BinaryBuilder
	case *array.BinaryBuilder:
		return b
	}
	return nil
}

// measure notes how much s and its descendants hold, before the record
// is cut.
func (s *slot) measure() {
	if s.b != nil {
		s.n = s.b.Len()
		if bb := binaryOf(s.b); bb != nil {
			s.data = bb.DataLen()
		}
	}
	for _, k := range s.kids {
		k.measure()
	}
	if s.elem != nil {
		s.elem.measure()
	}
}

// reserve gives the empty builders room for as much as the last record
// held and a sixteenth more.
func (s *slot) reserve() {
	if s.b != nil {
		s.b.Reserve(s.n + s.n/16)
		if bb := binaryOf(s.b); bb != nil {
			bb.ReserveData(s.data + s.data/16)
		}
	}
	for _, k := range s.kids {
		k.reserve()
	}
	if s.elem != nil {
		s.elem.reserve()
	}
}

func newSlot(c *column, b array.Builder) *slot {
	s := &slot{c: c, b: b}
	switch c.kind {
	case kStruct:
		sb := b.(*array.StructBuilder)
		for i, ch := range c.children {
			s.kids = append(s.kids, newSlot(ch, sb.FieldBuilder(i)))
		}
	case kList:
		s.elem = newSlot(c.elem, b.(*array.ListBuilder).ValueBuilder())
	}
	return s
}

// newAppender returns the appender of documents into rb, whose schema is
// s.arrow.
func newAppender(s *Schema, rb *array.RecordBuilder) *appender {
	a := &appender{s: s, ten: big.NewInt(10), root: &slot{c: s.root}}
	for i, ch := range s.root.children {
		a.root.kids = append(a.root.kids, newSlot(ch, rb.Field(i)))
	}
	if s.document != "" {
		a.doc = &slot{c: &column{name: s.document}, b: rb.Field(len(s.root.children))}
	}
	return a
}

// record cuts the rows appended so far as a record, noting their size
// for reserve.
func (a *appender) record(rb *array.RecordBuilder) arrow.RecordBatch {
	a.root.measure()
	if a.doc != nil {
		a.doc.measure()
	}
	return rb.NewRecordBatch()
}

// reserve readies the empty builders for as much as the last record held;
// called when a record starts, so an idle builder holds no buffers.
func (a *appender) reserve() {
	a.root.reserve()
	if a.doc != nil {
		a.doc.reserve()
	}
}

// appendDoc adds one top-level document as a row.
func (a *appender) appendDoc(doc bson.Raw) error {
	if err := a.fields(a.root, doc); err != nil {
		return err
	}
	if a.doc != nil {
		var err error
		if a.json, err = ejson.AppendDocument(a.json[:0], doc); err != nil {
			return fmt.Errorf("extended JSON of the document: %w", err)
		}
		a.doc.b.(*array.StringBuilder).BinaryBuilder.Append(a.json)
	}
	return nil
}

// fields appends the fields of doc to the builders of s's children, and a
// null to every child the document lacks. A name repeated within one
// document keeps its first value (the full-document column, when asked,
// keeps all).
func (a *appender) fields(s *slot, doc []byte) error {
	c := s.c
	n := len(c.children)
	var seenBuf [64]bool
	seen := seenBuf[:0]
	if n <= len(seenBuf) {
		seen = seenBuf[:n]
	} else {
		seen = make([]bool, n)
	}
	it, err := iterDoc(doc)
	if err != nil {
		return err
	}
	for pos := 0; ; pos++ {
		k, v, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		// Columns are in first-seen order, which most documents follow:
		// the field at the pos-th place is looked for there first, a
		// comparison instead of hashing the name.
		i, known := pos, pos < n && c.children[pos].name == string(k)
		if !known {
			i, known = c.index[string(k)]
		}
		if !known {
			// Inference saw every document of the collection, so every
			// name has a column; a miss means the data changed under us.
			return fmt.Errorf("field %q is not in the inferred schema", k)
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		if err := a.value(s.kids[i], v); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	for i, ok := range seen {
		if !ok {
			s.kids[i].b.AppendNull()
		}
	}
	return nil
}

// value appends one value under slot s.
func (a *appender) value(s *slot, v bson.RawValue) error {
	b := s.b
	if v.Type == bson.TypeNull || v.Type == bson.TypeUndefined {
		b.AppendNull()
		return nil
	}
	switch s.c.kind {
	case kJSON:
		j, err := a.ejsonValue(v)
		if err != nil {
			return err
		}
		b.(*array.StringBuilder).BinaryBuilder.Append(j)
	case kString:
		str, err := stringBytes(v)
		if err != nil {
			return err
		}
		b.(*array.StringBuilder).BinaryBuilder.Append(str)
	case kObjectID:
		hex.Encode(a.hex[:], v.Value)
		b.(*array.StringBuilder).BinaryBuilder.Append(a.hex[:])
	case kDouble:
		if v.Type == bson.TypeInt32 {
			b.(*array.Float64Builder).Append(float64(v.Int32()))
		} else {
			b.(*array.Float64Builder).Append(v.Double())
		}
	case kInt32:
		b.(*array.Int32Builder).Append(v.Int32())
	case kInt64:
		if v.Type == bson.TypeInt32 {
			b.(*array.Int64Builder).Append(int64(v.Int32()))
		} else {
			b.(*array.Int64Builder).Append(v.Int64())
		}
	case kBool:
		b.(*array.BooleanBuilder).Append(v.Boolean())
	case kTimestamp:
		b.(*array.TimestampBuilder).Append(arrow.Timestamp(v.DateTime()))
	case kBinary:
		data, err := binaryBytes(v)
		if err != nil {
			return err
		}
		b.(*array.BinaryBuilder).Append(data)
	case kDecimal:
		n, err := a.decimal(v.Decimal128(), s.c.scale)
		if err != nil {
			return err
		}
		b.(*array.Decimal128Builder).Append(n)
	case kStruct:
		b.(*array.StructBuilder).Append(true)
		return a.fields(s, v.Value)
	case kList:
		b.(*array.ListBuilder).Append(true)
		it, err := iterDoc(v.Value)
		if err != nil {
			return err
		}
		for i := 0; ; i++ {
			_, ev, ok, err := it.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := a.value(s.elem, ev); err != nil {
				return fmt.Errorf("[%d]: %w", i, err)
			}
		}
	}
	return nil
}

// decimal rescales d to the column's scale (never losing digits: the
// scale is the largest the column holds).
func (a *appender) decimal(d bson.Decimal128, scale int32) (decimal128.Num, error) {
	bi, exp, err := d.BigInt()
	if err != nil {
		return decimal128.Num{}, fmt.Errorf("decimal %s: %w", d, err)
	}
	if shift := int64(scale) + int64(exp); shift > 0 {
		bi.Mul(bi, new(big.Int).Exp(a.ten, big.NewInt(shift), nil))
	}
	return decimal128.FromBigInt(bi), nil
}

// ejsonValue renders one value as canonical Extended JSON, the way the
// EJSON export writes it inside a document: the value is wrapped as the
// only field of a document and cut back out.
func (a *appender) ejsonValue(v bson.RawValue) ([]byte, error) {
	// {"": v}: int32 length, type, empty key's NUL, value, NUL.
	size := 4 + 1 + 1 + len(v.Value) + 1
	w := append(a.wrap[:0], byte(size), byte(size>>8), byte(size>>16), byte(size>>24), byte(v.Type), 0)
	w = append(w, v.Value...)
	w = append(w, 0)
	a.wrap = w
	var err error
	if a.json, err = ejson.AppendDocument(a.json[:0], w); err != nil {
		return nil, fmt.Errorf("extended JSON of a %s: %w", v.Type, err)
	}
	// {"":VALUE} → VALUE
	return a.json[4 : len(a.json)-1], nil
}
