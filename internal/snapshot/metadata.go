package snapshot

import (
	"encoding/json"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/snapex/snapex/internal/ejson"
)

// CollectionType is the kind of namespace, as listCollections reports it.
type CollectionType string

// Collection types.
const (
	TypeCollection CollectionType = "collection"
	TypeView       CollectionType = "view"
	TypeTimeseries CollectionType = "timeseries"
)

// Metadata is the content of a mongodump "<coll>.metadata.json" file: the
// collection's options, indexes (as listIndexes returns them) and UUID. It
// is everything an exporter needs for Atlas's per-collection metadata.json.
type Metadata struct {
	// CollectionName is the collection's full name (mongorestore reads it
	// when the file name was shortened).
	CollectionName string
	// Type is "collection", "view" or "timeseries"; "" in dumps written
	// by old tools, which means a plain collection.
	Type CollectionType
	// UUID is the collection UUID as 32 lower-case hex digits, or "".
	UUID string
	// Options are the createCollection options (a BSON document; nil or
	// empty when there are none).
	Options bson.Raw
	// Indexes are the index specifications, one BSON document each.
	Indexes []bson.Raw
}

// IsView reports whether the metadata describes a view: type "view", or an
// options.viewOn field (old dumps carry no type).
func (m *Metadata) IsView() bool {
	if m.Type == TypeView {
		return true
	}
	if len(m.Options) == 0 {
		return false
	}
	_, err := m.Options.LookupErr("viewOn")
	return err == nil
}

// EffectiveType returns Type, or the type implied by the options when Type
// is empty.
func (m *Metadata) EffectiveType() CollectionType {
	switch {
	case m.Type != "":
		return m.Type
	case m.IsView():
		return TypeView
	default:
		return TypeCollection
	}
}

// MarshalMongodump encodes the metadata as mongodump does: canonical
// Extended JSON v2 of {options, indexes, uuid, collectionName, type}, with
// options, uuid and type omitted when empty and indexes always an array.
func (m *Metadata) MarshalMongodump() ([]byte, error) {
	d := bson.D{}
	if len(m.Options) > 0 {
		d = append(d, bson.E{Key: "options", Value: m.Options})
	}
	idx := bson.A{}
	for _, ix := range m.Indexes {
		idx = append(idx, ix)
	}
	d = append(d, bson.E{Key: "indexes", Value: idx})
	if m.UUID != "" {
		d = append(d, bson.E{Key: "uuid", Value: m.UUID})
	}
	d = append(d, bson.E{Key: "collectionName", Value: m.CollectionName})
	if m.Type != "" {
		d = append(d, bson.E{Key: "type", Value: string(m.Type)})
	}
	out, err := bson.MarshalExtJSON(d, true, false)
	if err != nil {
		return nil, fmt.Errorf("marshal metadata of %q: %w", m.CollectionName, err)
	}
	return out, nil
}

// ParseMetadata decodes a mongodump metadata file (canonical or relaxed
// Extended JSON). Unknown fields are ignored.
func ParseMetadata(data []byte) (*Metadata, error) {
	// An export reads one of these per collection: snapex's parser takes
	// the usual ones at a fraction of the driver's cost (the driver's
	// showed in profiles of exports of many small collections).
	raw, err := ejson.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("parse metadata JSON: %w", err)
	}
	m := &Metadata{}
	elems, err := raw.Elements()
	if err != nil {
		return nil, fmt.Errorf("parse metadata JSON: %w", err)
	}
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "options":
			doc, ok := v.DocumentOK()
			if !ok {
				return nil, fmt.Errorf("parse metadata JSON: options is a %s, not a document", v.Type)
			}
			m.Options = append(bson.Raw(nil), doc...)
		case "indexes":
			if v.Type == bson.TypeNull {
				continue
			}
			arr, ok := v.ArrayOK()
			if !ok {
				return nil, fmt.Errorf("parse metadata JSON: indexes is a %s, not an array", v.Type)
			}
			vals, err := arr.Values()
			if err != nil {
				return nil, fmt.Errorf("parse metadata JSON: indexes: %w", err)
			}
			for i, iv := range vals {
				doc, ok := iv.DocumentOK()
				if !ok {
					return nil, fmt.Errorf("parse metadata JSON: indexes[%d] is a %s, not a document", i, iv.Type)
				}
				m.Indexes = append(m.Indexes, append(bson.Raw(nil), doc...))
			}
		case "uuid":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, fmt.Errorf("parse metadata JSON: uuid is a %s, not a string", v.Type)
			}
			m.UUID = s
		case "collectionName":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, fmt.Errorf("parse metadata JSON: collectionName is a %s, not a string", v.Type)
			}
			m.CollectionName = s
		case "type":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, fmt.Errorf("parse metadata JSON: type is a %s, not a string", v.Type)
			}
			m.Type = CollectionType(s)
		}
	}
	return m, nil
}

// optionsJSON returns the options as canonical Extended JSON ("{}" when empty).
func optionsJSON(opts bson.Raw) (json.RawMessage, error) {
	if len(opts) == 0 {
		return json.RawMessage("{}"), nil
	}
	out, err := bson.MarshalExtJSON(opts, true, false)
	if err != nil {
		return nil, fmt.Errorf("marshal options: %w", err)
	}
	return out, nil
}
