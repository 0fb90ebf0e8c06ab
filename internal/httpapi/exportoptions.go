package httpapi

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/snapex/snapex/internal/atlas"
)

// exportOptions reads the optional snapexOptions object of a create-export
// body field by field, so every error names the attribute
// (snapexOptions.parquet.compression, …) instead of a Go type.
func (o *object) exportOptions(name string) (*atlas.ExportOptions, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return nil, nil
	}
	top, aerr := subObject(o.fields[name], name)
	if aerr != nil {
		return nil, aerr
	}
	var out atlas.ExportOptions
	if out.Format, aerr = top.str(name + ".format"); aerr != nil {
		return nil, aerr
	}
	if out.NSInclude, aerr = top.strings(name + ".nsInclude"); aerr != nil {
		return nil, aerr
	}
	if out.NSExclude, aerr = top.strings(name + ".nsExclude"); aerr != nil {
		return nil, aerr
	}
	if out.Manifest, _, aerr = top.boolean(name + ".manifest"); aerr != nil {
		return nil, aerr
	}
	pq := name + ".parquet"
	top.used[pq] = true
	if top.has(pq) {
		p, aerr := subObject(top.fields[pq], pq)
		if aerr != nil {
			return nil, aerr
		}
		out.Parquet = &atlas.ParquetOptions{}
		if out.Parquet.Compression, aerr = p.str(pq + ".compression"); aerr != nil {
			return nil, aerr
		}
		if out.Parquet.RowGroupRows, _, aerr = p.integer(pq + ".rowGroupRows"); aerr != nil {
			return nil, aerr
		}
		if out.Parquet.FullDocument, _, aerr = p.boolean(pq + ".fullDocument"); aerr != nil {
			return nil, aerr
		}
		if aerr := p.unknown(); aerr != nil {
			return nil, aerr
		}
	}
	if aerr := top.unknown(); aerr != nil {
		return nil, aerr
	}
	return &out, nil
}

// subObject decodes a nested JSON object whose fields are keyed by their
// full attribute path (prefix.field), so the object helpers name them.
func subObject(raw json.RawMessage, name string) (*object, *atlas.Error) {
	var fields map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil || fields == nil {
		return nil, atlas.ErrInvalidJSONAttribute(name, "an object")
	}
	o := &object{fields: map[string]json.RawMessage{}, used: map[string]bool{}}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		o.fields[name+"."+k] = fields[k]
	}
	return o, nil
}

// strings reads an optional array of strings.
func (o *object) strings(name string) ([]string, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(o.fields[name], &out); err != nil {
		return nil, atlas.ErrInvalidJSONAttribute(name, "an array of strings")
	}
	return out, nil
}
