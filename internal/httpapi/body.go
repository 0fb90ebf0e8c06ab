package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"unicode/utf8"

	"github.com/snapex/snapex/internal/atlas"
)

// maxBodyBytes bounds request bodies; every request body of this API is a
// small JSON object.
const maxBodyBytes = 1 << 20

// maxJSONDepth bounds nesting so hostile bodies cannot exhaust the stack.
const maxJSONDepth = 32

// object is a decoded top-level JSON object whose fields are read one by
// one, so every error names the field (the standard decoder's messages
// speak of Go types, not of API attributes).
type object struct {
	fields map[string]json.RawMessage
	used   map[string]bool
}

// readObject reads the request body as one JSON object: at most 1 MiB,
// well-formed, valid UTF-8, no duplicate keys, bounded nesting, sent as
// JSON (checkContentType).
func readObject(r *http.Request) (*object, *atlas.Error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, atlas.ErrInvalidJSON("the request body could not be read")
	}
	// No body and no Content-Type is a missing body (INVALID_JSON below),
	// not a body of an unsupported type.
	if len(raw) > 0 || r.Header.Get("Content-Type") != "" {
		if aerr := checkContentType(r); aerr != nil {
			return nil, aerr
		}
	}
	if len(raw) > maxBodyBytes {
		return nil, atlas.ErrRequestTooLarge(maxBodyBytes)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, atlas.ErrInvalidJSON("the request body is empty; a JSON object is expected")
	}
	if !utf8.Valid(raw) {
		return nil, atlas.ErrInvalidJSON("the request body is not valid UTF-8")
	}
	if err := checkDepth(raw); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, atlas.ErrInvalidJSON(syntaxReason(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, atlas.ErrInvalidJSON("a JSON object is expected")
	}
	o := &object{fields: map[string]json.RawMessage{}, used: map[string]bool{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, atlas.ErrInvalidJSON(syntaxReason(err))
		}
		key := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, atlas.ErrInvalidJSON(syntaxReason(err))
		}
		if _, dup := o.fields[key]; dup {
			return nil, atlas.ErrInvalidJSON(fmt.Sprintf("the attribute %s appears more than once", key))
		}
		o.fields[key] = v
	}
	if _, err := dec.Token(); err != nil {
		return nil, atlas.ErrInvalidJSON(syntaxReason(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, atlas.ErrInvalidJSON("unexpected data after the JSON object")
	}
	return o, nil
}

func syntaxReason(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "unexpected end of JSON input"
	}
	return err.Error()
}

// checkDepth rejects JSON nested deeper than maxJSONDepth, scanning bytes
// and skipping strings.
func checkDepth(raw []byte) *atlas.Error {
	depth, inStr, esc := 0, false, false
	for _, c := range raw {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			depth++
			if depth > maxJSONDepth {
				return atlas.ErrInvalidJSON(fmt.Sprintf("JSON nesting deeper than %d levels", maxJSONDepth))
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// has reports whether the field is present and not null.
func (o *object) has(name string) bool {
	v, ok := o.fields[name]
	return ok && string(v) != "null"
}

// str reads an optional string field.
func (o *object) str(name string) (string, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(o.fields[name], &s); err != nil {
		return "", atlas.ErrInvalidJSONAttribute(name, "a string")
	}
	return s, nil
}

// requiredStr reads a string field that must be present and non-empty.
func (o *object) requiredStr(name string) (string, *atlas.Error) {
	s, err := o.str(name)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", atlas.ErrMissingAttribute(name)
	}
	return s, nil
}

// boolean reads an optional boolean field.
func (o *object) boolean(name string) (bool, bool, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return false, false, nil
	}
	var b bool
	if err := json.Unmarshal(o.fields[name], &b); err != nil {
		return false, false, atlas.ErrInvalidJSONAttribute(name, "a boolean")
	}
	return b, true, nil
}

// integer reads an optional int32 field.
func (o *object) integer(name string) (int, bool, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return 0, false, nil
	}
	var n json.Number
	// json.Number also accepts a quoted number; the API does not.
	if err := json.Unmarshal(o.fields[name], &n); err != nil || o.fields[name][0] == '"' {
		return 0, false, atlas.ErrInvalidJSONAttribute(name, "an integer")
	}
	i, err := n.Int64()
	if err != nil || i < -1<<31 || i > 1<<31-1 {
		return 0, false, atlas.ErrInvalidJSONAttribute(name, "a 32-bit integer")
	}
	return int(i), true, nil
}

// labels reads an optional array of {key, value} objects.
func (o *object) labels(name string) ([]atlas.Label, *atlas.Error) {
	o.used[name] = true
	if !o.has(name) {
		return []atlas.Label{}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(o.fields[name], &items); err != nil {
		return nil, atlas.ErrInvalidJSONAttribute(name, "an array of {key, value} objects")
	}
	out := make([]atlas.Label, 0, len(items))
	for i, it := range items {
		dec := json.NewDecoder(bytes.NewReader(it))
		dec.DisallowUnknownFields()
		var l atlas.Label
		if err := dec.Decode(&l); err != nil {
			return nil, atlas.ErrInvalidJSONAttribute(fmt.Sprintf("%s[%d]", name, i), "an object with string key and value")
		}
		out = append(out, l)
	}
	return out, nil
}

// ignore marks read-only fields a client may echo back (such as links).
func (o *object) ignore(names ...string) {
	for _, n := range names {
		o.used[n] = true
	}
}

// unknown reports the first field (alphabetically) no reader consumed.
func (o *object) unknown() *atlas.Error {
	var extra []string
	for k := range o.fields {
		if !o.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return atlas.ErrUnknownAttribute(extra[0])
}
