package parquetout

import (
	"fmt"
	"math/big"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/snapex/snapex/internal/ejson"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// appender adds documents to Arrow builders following a Schema; its
// buffers are reused from document to document.
type appender struct {
	s    *Schema
	json []byte // Extended JSON scratch
	wrap []byte // BSON scratch for a lone value
	ten  *big.Int
}

func newAppender(s *Schema) *appender {
	return &appender{s: s, ten: big.NewInt(10)}
}

// appendDoc adds one top-level document as a row of rb.
func (a *appender) appendDoc(rb *array.RecordBuilder, doc bson.Raw) error {
	root := a.s.root
	if err := a.fields(root, doc, func(i int) array.Builder { return rb.Field(i) }); err != nil {
		return err
	}
	if a.s.document != "" {
		var err error
		if a.json, err = ejson.AppendDocument(a.json[:0], doc); err != nil {
			return fmt.Errorf("extended JSON of the document: %w", err)
		}
		rb.Field(len(root.children)).(*array.StringBuilder).BinaryBuilder.Append(a.json)
	}
	return nil
}

// fields appends the fields of doc to the builders of c's children (got
// from builder), and a null to every child the document lacks. A name
// repeated within one document keeps its first value (the full-document
// column, when asked, keeps all).
func (a *appender) fields(c *column, doc bson.Raw, builder func(int) array.Builder) error {
	n := len(c.children)
	var seenBuf [64]bool
	seen := seenBuf[:0]
	if n <= len(seenBuf) {
		seen = seenBuf[:n]
	} else {
		seen = make([]bool, n)
	}
	elems, err := doc.Elements()
	if err != nil {
		return err
	}
	for _, e := range elems {
		i, ok := c.index[e.Key()]
		if !ok {
			// Inference saw every document of the collection, so every
			// name has a column; a miss means the data changed under us.
			return fmt.Errorf("field %q is not in the inferred schema", e.Key())
		}
		if seen[i] {
			continue
		}
		seen[i] = true
		if err := a.value(c.children[i], builder(i), e.Value()); err != nil {
			return fmt.Errorf("%s: %w", e.Key(), err)
		}
	}
	for i, ok := range seen {
		if !ok {
			builder(i).AppendNull()
		}
	}
	return nil
}

// value appends one value under column c.
func (a *appender) value(c *column, b array.Builder, v bson.RawValue) error {
	if v.Type == bson.TypeNull || v.Type == bson.TypeUndefined {
		b.AppendNull()
		return nil
	}
	switch c.kind {
	case kJSON:
		j, err := a.ejsonValue(v)
		if err != nil {
			return err
		}
		b.(*array.StringBuilder).BinaryBuilder.Append(j)
		return nil
	case kString:
		b.(*array.StringBuilder).Append(v.StringValue())
	case kObjectID:
		b.(*array.StringBuilder).Append(v.ObjectID().Hex())
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
		_, data := v.Binary()
		b.(*array.BinaryBuilder).Append(data)
	case kDecimal:
		n, err := a.decimal(v.Decimal128(), c.scale)
		if err != nil {
			return err
		}
		b.(*array.Decimal128Builder).Append(n)
	case kStruct:
		sb := b.(*array.StructBuilder)
		sb.Append(true)
		return a.fields(c, v.Document(), sb.FieldBuilder)
	case kList:
		lb := b.(*array.ListBuilder)
		lb.Append(true)
		vb := lb.ValueBuilder()
		vals, err := v.Array().Values()
		if err != nil {
			return err
		}
		for i, ev := range vals {
			if err := a.value(c.elem, vb, ev); err != nil {
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
