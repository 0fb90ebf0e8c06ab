package config

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Check reads the config file at path and reports every problem in it at
// once, in line order, without starting anything: YAML syntax, unknown
// fields (with the nearest known name), values of the wrong kind and the
// rules Load enforces. It returns nil for a file Load accepts, otherwise
// an Errors (or a plain error when the file cannot be read or parsed).
func Check(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read config: %w", err)
	}
	return CheckBytes(path, raw)
}

// CheckBytes is Check on config bytes; path names the file in errors and
// anchors relative paths.
func CheckBytes(path string, raw []byte) error {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		// A syntax error leaves no tree to walk; yaml names its line.
		return fmt.Errorf("%s: %w", path, err)
	}
	s := &shapeChecker{file: path}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		doc = doc.Content[0]
	}
	if doc.Kind != 0 {
		s.walk(doc, reflect.TypeOf(Config{}), "")
	}
	errs := s.errs
	// The walk dropped what it reported (unknown fields, wrong kinds,
	// repeated keys) from the tree; what is left goes through Parse, so the
	// rules, defaults and secret resolution are exactly those of Load.
	// Nodes keep their original lines, so a finding's path leads back to
	// its line in the file as written.
	cleaned, err := yaml.Marshal(&root)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var rules Errors
	if _, err := Parse(path, cleaned); err != nil && !errors.As(err, &rules) {
		return err
	}
	for _, e := range rules {
		if e.Path == structurePath || s.covers(e.Path) {
			continue
		}
		e.File = path
		e.Line = locate(&root, e.Path)
		errs = append(errs, e)
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	return errs
}

// structurePath is the path Parse gives the decoder's own reports (unknown
// fields, wrong types); the walk has reported those already.
const structurePath = "(structure)"

// shapeChecker compares a YAML tree with the config's fields.
type shapeChecker struct {
	file string
	errs Errors
}

// covers reports whether path is at or under a place already reported,
// whose zero value would otherwise draw a second, misleading report
// ("required") from the rules.
func (s *shapeChecker) covers(path string) bool {
	for _, e := range s.errs {
		if path == e.Path || strings.HasPrefix(path, e.Path+".") || strings.HasPrefix(path, e.Path+"[") {
			return true
		}
	}
	return false
}

func (s *shapeChecker) add(n *yaml.Node, path, format string, args ...any) {
	if path == "" {
		path = "(top level)"
	}
	s.errs = append(s.errs, &Error{File: s.file, Line: max(n.Line, 1), Path: path, Msg: fmt.Sprintf(format, args...)})
}

var (
	unmarshalerType     = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	textUnmarshalerType = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// walk checks node n against type t at path; false means n was reported
// and must not reach the decoder.
func (s *shapeChecker) walk(n *yaml.Node, t reflect.Type, path string) bool {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return true // an empty value leaves the default in place
	}
	if pt := reflect.PointerTo(t); pt.Implements(unmarshalerType) || pt.Implements(textUnmarshalerType) {
		// Secrets are written as one string (literal, env:NAME or file:PATH).
		if n.Kind != yaml.ScalarNode {
			s.add(n, path, "must be a single value (a string, env:NAME or file:PATH), not %s", kindName(n))
			return false
		}
		return true
	}
	switch t.Kind() {
	case reflect.Struct:
		return s.mapping(n, t, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			s.add(n, path, "must be a list, not %s", kindName(n))
			return false
		}
		for i, item := range n.Content {
			if !s.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i)) {
				// Replaced rather than dropped, so the items after it
				// keep their indexes (and paths).
				n.Content[i] = emptyLike(t.Elem())
			}
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			s.add(n, path, "must be a string, not %s", kindName(n))
			return false
		}
	case reflect.Int, reflect.Int64, reflect.Int32:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			s.add(n, path, "must be a whole number, not %s", kindName(n))
			return false
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			s.add(n, path, "must be true or false, not %s", kindName(n))
			return false
		}
	}
	return true
}

// emptyLike is an empty value of type t's shape, standing in for a list
// item that was reported.
func emptyLike(t reflect.Type) *yaml.Node {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(textUnmarshalerType) {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str"}
}

// mapping checks the fields of a struct-shaped node, keeping in it only
// the fields that were not reported.
func (s *shapeChecker) mapping(n *yaml.Node, t reflect.Type, path string) bool {
	if n.Kind != yaml.MappingNode {
		s.add(n, path, "must be a mapping of fields (%s), not %s", strings.Join(fieldNames(t), ", "), kindName(n))
		return false
	}
	fields := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if f.IsExported() && name != "" && name != "-" {
			fields[name] = f.Type
		}
	}
	seen := map[string]int{}
	kept := n.Content[:0:0]
	defer func() { n.Content = kept }()
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		childPath := key.Value
		if path != "" {
			childPath = path + "." + key.Value
		}
		if first, dup := seen[key.Value]; dup {
			// Reported here and dropped from the tree: yaml refuses to
			// decode a mapping with a repeated key at all, which would
			// hide the rules' findings behind empty values.
			s.add(key, childPath, "`%s` is given twice (first on line %d)", key.Value, first)
			continue
		}
		seen[key.Value] = key.Line
		ft, ok := fields[key.Value]
		if !ok {
			s.add(key, childPath, "%s", unknownField(key.Value, fieldNames(t)))
			continue
		}
		if s.walk(val, ft, childPath) {
			kept = append(kept, key, val)
		}
	}
	return true
}

// fieldNames lists the YAML names of t's fields in declaration order.
func fieldNames(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if t.Field(i).IsExported() && name != "" && name != "-" {
			names = append(names, name)
		}
	}
	return names
}

// kindName describes a node for a person reading the config, never with
// Go type names.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!int":
			return "the number " + n.Value
		case "!!float":
			return "the number " + n.Value
		case "!!bool":
			return n.Value
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "an empty value"
}
