package parquetout

import (
	"math/big"
	"sort"

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
	// fields and order describe embedded documents, in first-seen order;
	// kids[i] is fields[order[i]].
	fields map[string]*node
	order  []string
	kids   []*node
	elem   *node // element of arrays
	// asJSON marks a document level past maxFields or maxDepth.
	asJSON bool
	dec    decimalShape
	// first is where the field was first seen: the document's number in
	// the collection, then a count of fields first seen by the same pass
	// before it. Passes over parts of the collection are merged by it into
	// the order one pass over all of it would have found.
	first stamp
}

// stamp orders first sightings: by document, then, within one document
// (which one pass sees whole), by the pass's count of new fields.
type stamp struct{ doc, seq int64 }

func (s stamp) before(o stamp) bool {
	return s.doc < o.doc || s.doc == o.doc && s.seq < o.seq
}

// pass is one goroutine's walk over documents: the document being
// observed and the count of fields first seen so far.
type pass struct {
	doc, seq int64
}

func (p *pass) stamp() stamp {
	p.seq++
	return stamp{p.doc, p.seq}
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
func (n *node) observeDoc(p *pass, doc bson.Raw, depth int) error {
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
	for i := 0; ; i++ {
		k, v, ok, err := it.next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		// Documents of a collection mostly hold their fields in the same
		// order, so the i-th field is looked for at the i-th place first:
		// a comparison instead of hashing the name.
		var c *node
		if i < len(n.order) && n.order[i] == string(k) {
			c = n.kids[i]
		} else {
			c = n.fields[string(k)]
		}
		if c == nil {
			if len(n.order) >= maxFields {
				n.toJSON()
				return nil
			}
			c = &node{first: p.stamp()}
			name := string(k)
			n.fields[name] = c
			n.order = append(n.order, name)
			n.kids = append(n.kids, c)
		}
		if err := c.observe(p, v, depth+1); err != nil {
			return err
		}
	}
}

// toJSON turns a document level into an Extended JSON column and frees
// what was learnt below it.
func (n *node) toJSON() {
	n.asJSON, n.fields, n.order, n.kids = true, nil, nil, nil
}

// observe records one value into n.
func (n *node) observe(p *pass, v bson.RawValue, depth int) error {
	switch v.Type {
	case bson.TypeNull, bson.TypeUndefined:
		return nil
	}
	n.types |= bit(v.Type)
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return n.observeDoc(p, v.Value, depth)
	case bson.TypeArray:
		if n.elem == nil {
			n.elem = &node{first: p.stamp()}
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
			if err := n.elem.observe(p, ev, depth+1); err != nil {
				return err
			}
		}
	case bson.TypeDecimal128:
		n.dec.observe(v.Decimal128())
	}
	return nil
}

// merge adds what o learnt (from other documents of the collection) to n.
func (n *node) merge(o *node) {
	n.types |= o.types
	if o.first.before(n.first) {
		n.first = o.first
	}
	n.dec.merge(o.dec)
	if o.elem != nil {
		if n.elem == nil {
			n.elem = o.elem
		} else {
			n.elem.merge(o.elem)
		}
	}
	if n.asJSON {
		return
	}
	if o.asJSON {
		n.toJSON()
		return
	}
	if o.fields == nil {
		return
	}
	if n.fields == nil {
		n.fields = map[string]*node{}
	}
	grew := false
	for i, k := range o.order {
		c := n.fields[k]
		if c == nil {
			n.fields[k] = o.kids[i]
			n.order = append(n.order, k)
			n.kids = append(n.kids, o.kids[i])
			grew = true
			continue
		}
		c.merge(o.kids[i])
	}
	if len(n.order) > maxFields {
		// One pass over every document would have met the field past
		// the bound too.
		n.toJSON()
		return
	}
	if grew || !sortedByFirst(n.kids) {
		// A field's first sighting may now be earlier than it was.
		idx := make([]int, len(n.kids))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return n.kids[idx[a]].first.before(n.kids[idx[b]].first) })
		order, kids := make([]string, len(idx)), make([]*node, len(idx))
		for i, j := range idx {
			order[i], kids[i] = n.order[j], n.kids[j]
		}
		n.order, n.kids = order, kids
	}
}

func sortedByFirst(kids []*node) bool {
	for i := 1; i < len(kids); i++ {
		if kids[i].first.before(kids[i-1].first) {
			return false
		}
	}
	return true
}

func (s *decimalShape) merge(o decimalShape) {
	s.special = s.special || o.special
	s.scale = max(s.scale, o.scale)
	s.intDigits = max(s.intDigits, o.intDigits)
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
