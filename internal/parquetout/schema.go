package parquetout

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// kind is how a column stores its values.
type kind int

const (
	kJSON      kind = iota // canonical Extended JSON of the value, as a string
	kString                // UTF-8 string
	kObjectID              // 24 lowercase hex digits
	kDouble                // DOUBLE (int32 widened into it)
	kInt32                 // INT32
	kInt64                 // INT64 (int32 widened into it)
	kBool                  // BOOLEAN
	kTimestamp             // TIMESTAMP(MILLIS, UTC)
	kBinary                // BYTE_ARRAY without annotation (subtype dropped)
	kDecimal               // DECIMAL(38, scale)
	kStruct                // group of the embedded document's fields
	kList                  // LIST of elem
)

// column is the resolved type of one field path.
type column struct {
	name     string
	kind     kind
	scale    int32
	children []*column
	index    map[string]int // child position by field name
	elem     *column
}

// resolve decides a field's column from what inference saw. The rule for
// fields whose type varies: int32 with int64 widens to INT64, int32 with
// double widens to DOUBLE (both exact); any other mix (int64 with double
// included, which DOUBLE cannot always hold) becomes an Extended JSON
// string column holding every value, so nothing is dropped or rounded.
func resolve(name string, n *node) *column {
	c := &column{name: name}
	if n.asJSON {
		return c
	}
	switch n.types {
	case 0: // only nulls (or absent): a string column of nulls
		c.kind = kString
	case bitString:
		c.kind = kString
	case bitOID:
		c.kind = kObjectID
	case bitDouble, bitDouble | bitInt32:
		c.kind = kDouble
	case bitInt32:
		c.kind = kInt32
	case bitInt64, bitInt64 | bitInt32:
		c.kind = kInt64
	case bitBool:
		c.kind = kBool
	case bitDate:
		c.kind = kTimestamp
	case bitBinary:
		c.kind = kBinary
	case bitDecimal:
		if n.dec.fits() {
			c.kind, c.scale = kDecimal, int32(n.dec.scale)
		}
	case bitDoc:
		// Parquet has no empty groups: documents that are always empty
		// stay Extended JSON ("{}").
		if len(n.order) > 0 {
			c.kind, c.index = kStruct, map[string]int{}
			for i, k := range n.order {
				c.children = append(c.children, resolve(k, n.fields[k]))
				c.index[k] = i
			}
		}
	case bitArray:
		c.kind = kList
		if n.elem == nil {
			c.elem = &column{name: "element", kind: kString}
		} else {
			c.elem = resolve("element", n.elem)
		}
	}
	return c
}

// arrowType is the column's Arrow type; pqarrow maps it to the Parquet
// physical and logical type.
func (c *column) arrowType() arrow.DataType {
	switch c.kind {
	case kDouble:
		return arrow.PrimitiveTypes.Float64
	case kInt32:
		return arrow.PrimitiveTypes.Int32
	case kInt64:
		return arrow.PrimitiveTypes.Int64
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	case kTimestamp:
		return &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
	case kBinary:
		return arrow.BinaryTypes.Binary
	case kDecimal:
		return &arrow.Decimal128Type{Precision: 38, Scale: c.scale}
	case kStruct:
		fs := make([]arrow.Field, len(c.children))
		for i, ch := range c.children {
			fs[i] = ch.field()
		}
		return arrow.StructOf(fs...)
	case kList:
		return arrow.ListOfField(c.elem.field())
	}
	return arrow.BinaryTypes.String
}

func (c *column) field() arrow.Field {
	return arrow.Field{Name: c.name, Type: c.arrowType(), Nullable: true}
}

// Schema is a collection's inferred table: one column per top-level
// field, plus the whole document when asked.
type Schema struct {
	root     *column
	document string // name of the full-document column, "" when off
	arrow    *arrow.Schema
}

// documentColumn is the full-document column's name; a collection whose
// documents have a field of that name gets underscores appended.
const documentColumn = "_document"

// newSchema resolves the collection's root node.
func newSchema(n *node, fullDocument bool) *Schema {
	root := resolve("", n)
	if root.kind != kStruct { // no fields at all (only empty documents)
		root = &column{kind: kStruct, index: map[string]int{}}
	}
	s := &Schema{root: root}
	fs := make([]arrow.Field, 0, len(root.children)+1)
	for _, ch := range root.children {
		fs = append(fs, ch.field())
	}
	if fullDocument || len(fs) == 0 {
		s.document = documentColumn
		for _, taken := root.index[s.document]; taken; _, taken = root.index[s.document] {
			s.document += "_"
		}
		fs = append(fs, arrow.Field{Name: s.document, Type: arrow.BinaryTypes.String, Nullable: false})
	}
	s.arrow = arrow.NewSchema(fs, nil)
	return s
}
