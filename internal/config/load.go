package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Error is a configuration problem at a place in the file.
type Error struct {
	File string
	Line int
	Path string // e.g. organizations[0].projects[1].id
	Msg  string
}

// Error formats as file:line: path: message.
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d: %s: %s", e.File, e.Line, e.Path, e.Msg)
}

// Load reads, resolves and validates the config file at path.
func Load(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, raw)
}

// Parse decodes and validates config bytes; path names the file in errors
// and anchors relative paths.
func Parse(path string, raw []byte) (*Config, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	cfg := &Config{}
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, decodeErrors(path, err)
	}
	cfg.path = path
	base := filepath.Dir(path)
	if errs := cfg.validate(base); len(errs) > 0 {
		for _, e := range errs {
			e.File = path
			e.Line = locate(&root, e.Path)
		}
		return nil, errs
	}
	return cfg, nil
}

// decodeErrors rewrites yaml's "line N: message" errors (unknown fields,
// wrong types) into file:line form.
func decodeErrors(path string, err error) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return fmt.Errorf("%s: %w", path, err)
	}
	var errs Errors
	for _, m := range te.Errors {
		e := &Error{File: path, Line: 1, Path: "(structure)", Msg: m}
		var n int
		if _, scanErr := fmt.Sscanf(m, "line %d:", &n); scanErr == nil {
			e.Line = n
			e.Msg = strings.TrimSpace(m[strings.IndexByte(m, ':')+1:])
		}
		errs = append(errs, e)
	}
	return errs
}

// Errors is every problem found in one config file.
type Errors []*Error

// Error lists each problem on its own line.
func (es Errors) Error() string {
	var b strings.Builder
	for i, e := range es {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// locate finds the line of the deepest node along a path such as
// "organizations[0].projects[1].id"; 1 when nothing matches.
func locate(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := n.Line
	for _, seg := range splitPath(path) {
		next := child(n, seg)
		if next == nil {
			break
		}
		n = next
		line = n.Line
	}
	if line == 0 {
		line = 1
	}
	return line
}

func splitPath(path string) []string {
	var segs []string
	for _, part := range strings.Split(path, ".") {
		for part != "" {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				segs = append(segs, part)
				break
			}
			if i > 0 {
				segs = append(segs, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			segs = append(segs, part[i:j+1])
			part = part[j+1:]
		}
	}
	return segs
}

func child(n *yaml.Node, seg string) *yaml.Node {
	if strings.HasPrefix(seg, "[") {
		idx, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
			return nil
		}
		return n.Content[idx]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i+1]
		}
	}
	return nil
}
