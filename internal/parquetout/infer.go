package parquetout

import (
	"math/big"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Bounds of the inferred schema, so a collection of map-like documents
// (a key per user id, …) cannot grow it without limit: a document level
// with more distinct field names than maxFields, or nested deeper than
// maxDepth, becomes one Extended JSON string column instead.
const (
	maxFields = 1024
	maxDepth  = 24
)

// node accumulates what one field path held across the collection.
type node struct {
	types uint32 // bit per bson.Type seen (null and undefined excluded)
	// fields and order describe embedded documents, in first-seen order.
	fields map[string]*node
	order  []string
	elem   *node // element of arrays
	// asJSON marks a document level past maxFields or maxDepth.
	asJSON bool
	dec    decimalShape
}

// decimalShape tracks what DECIMAL(precision, scale) would hold every
// decimal128 of a field: the largest scale and integer-digit count seen,
// and whether any value (NaN, ±Inf) cannot be a DECIMAL at all.
type decimalShape struct {
	scale, intDigits int
	special          bool
}

func bit(t bson.Type) uint32 { return 1 << (uint32(t) & 31) }

// bits of the BSON types (the 0x7F/0xFF keys fold onto free bits).
var (
	bitDouble  = bit(bson.TypeDouble)
	bitString  = bit(bson.TypeString)
	bitDoc     = bit(bson.TypeEmbeddedDocument)
	bitArray   = bit(bson.TypeArray)
	bitBinary  = bit(bson.TypeBinary)
	bitOID     = bit(bson.TypeObjectID)
	bitBool    = bit(bson.TypeBoolean)
	bitDate    = bit(bson.TypeDateTime)
	bitInt32   = bit(bson.TypeInt32)
	bitInt64   = bit(bson.TypeInt64)
	bitDecimal = bit(bson.TypeDecimal128)
)

// observeDoc records one document (or embedded document) into n.
func (n *node) observeDoc(doc bson.Raw, depth int) error {
	if n.asJSON {
		return nil
	}
	if depth > maxDepth {
		n.toJSON()
		return nil
	}
	if n.fields == nil {
		n.fields = map[string]*node{}
	}
	it, err := iterDoc(doc)
	if err != nil {
		return err
	}
	for {
		k, v, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		c := n.fields[string(k)]
		if c == nil {
			if len(n.order) >= maxFields {
				n.toJSON()
				return nil
			}
			c = &node{}
			name := string(k)
			n.fields[name] = c
			n.order = append(n.order, name)
		}
		if err := c.observe(v, depth+1); err != nil {
			return err
		}
	}
}

// toJSON turns a document level into an Extended JSON column and frees
// what was learnt below it.
func (n *node) toJSON() {
	n.asJSON, n.fields, n.order = true, nil, nil
}

// observe records one value into n.
func (n *node) observe(v bson.RawValue, depth int) error {
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil
	}
	n.types |= bit(v.Type)
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return n.observeDoc(v.Value, depth)
	case bson.TypeArray:
		if n.elem == nil {
			n.elem = &node{}
		}
		it, err := iterDoc(v.Value)
		if err != nil {
			return err
		}
		for {
			_, ev, ok, err := it.next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if err := n.elem.observe(ev, depth+1); err != nil {
				return err
			}
		}
	case bson.TypeDecimal128:
		n.dec.observe(v.Decimal128())
	}
	return nil
}

func (s *decimalShape) observe(d bson.Decimal128) {
	if s.special {
		return
	}
	bi, exp, err := d.BigInt()
	if err != nil { // NaN or ±Infinity
		s.special = true
		return
	}
	digits := len(new(big.Int).Abs(bi).String())
	if bi.Sign() == 0 {
		digits = 1
	}
	scale := -exp
	if scale < 0 {
		digits += -scale
		scale = 0
	}
	s.scale = max(s.scale, scale)
	s.intDigits = max(s.intDigits, digits-scale)
}

// fits reports whether DECIMAL(38, scale) holds every value seen.
func (s *decimalShape) fits() bool {
	return !s.special && s.scale <= 38 && s.intDigits+s.scale <= 38
}
