package restore

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Metadata is a collection's metadata.json.
type Metadata struct {
	// CollectionName is the collection's name as exported.
	CollectionName string
	// Indexes are index specifications in getIndexes() form.
	Indexes []bson.Raw
	// Options are the createCollection options (may be empty).
	Options bson.Raw
	// Type is "collection", "timeseries" or "" (absent).
	Type string
	// UUID is the source collection's UUID, 32 hex digits.
	UUID string
}

// ParseMetadata parses metadata.json (Extended JSON, canonical or relaxed).
func ParseMetadata(data []byte) (*Metadata, error) {
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(data, false, &doc); err != nil {
		return nil, fmt.Errorf("parse metadata.json: %w", err)
	}
	md := &Metadata{}
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("parse metadata.json: %w", err)
	}
	for _, e := range elems {
		v := e.Value()
		switch e.Key() {
		case "collectionName":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, fmt.Errorf("metadata.json: collectionName is a %s, want a string", v.Type)
			}
			md.CollectionName = s
		case "type":
			s, ok := v.StringValueOK()
			if !ok {
				return nil, fmt.Errorf("metadata.json: type is a %s, want a string", v.Type)
			}
			md.Type = s
		case "uuid":
			md.UUID, _ = v.StringValueOK()
		case "options":
			d, ok := v.DocumentOK()
			if !ok {
				return nil, fmt.Errorf("metadata.json: options is a %s, want a document", v.Type)
			}
			md.Options = d
		case "indexes":
			arr, ok := v.ArrayOK()
			if !ok {
				return nil, fmt.Errorf("metadata.json: indexes is a %s, want an array", v.Type)
			}
			vals, err := arr.Values()
			if err != nil {
				return nil, fmt.Errorf("metadata.json: indexes: %w", err)
			}
			for i, iv := range vals {
				ix, ok := iv.DocumentOK()
				if !ok {
					return nil, fmt.Errorf("metadata.json: indexes[%d] is a %s, want a document", i, iv.Type)
				}
				if _, err := ix.LookupErr("key"); err != nil {
					return nil, fmt.Errorf("metadata.json: indexes[%d] has no key", i)
				}
				md.Indexes = append(md.Indexes, ix)
			}
		}
	}
	return md, nil
}
