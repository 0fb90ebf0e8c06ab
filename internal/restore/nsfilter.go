package restore

import (
	"fmt"
	"regexp"
	"strings"
)

// NamespaceOptions selects and renames namespaces with mongorestore's
// syntax. Include and Exclude hold patterns where "*" matches any run of
// characters and "\" escapes the next one; From and To are pairs where
// "$name$" in From captures any run of characters that To repeats.
type NamespaceOptions struct {
	Include []string
	Exclude []string
	From    []string
	To      []string
}

// nsMapper applies NamespaceOptions.
type nsMapper struct {
	include, exclude []*regexp.Regexp
	renames          []rename
}

type rename struct {
	from *regexp.Regexp
	vars []string
	to   string
}

// newMapper compiles the options, naming the pattern that does not parse.
func newMapper(o NamespaceOptions) (*nsMapper, error) {
	m := &nsMapper{}
	for _, p := range o.Include {
		re, err := globPattern(p)
		if err != nil {
			return nil, fmt.Errorf("--nsInclude %q: %w", p, err)
		}
		m.include = append(m.include, re)
	}
	for _, p := range o.Exclude {
		re, err := globPattern(p)
		if err != nil {
			return nil, fmt.Errorf("--nsExclude %q: %w", p, err)
		}
		m.exclude = append(m.exclude, re)
	}
	if len(o.From) != len(o.To) {
		return nil, fmt.Errorf("--nsFrom is given %d times and --nsTo %d times: they come in pairs", len(o.From), len(o.To))
	}
	for i := range o.From {
		r, err := newRename(o.From[i], o.To[i])
		if err != nil {
			return nil, err
		}
		m.renames = append(m.renames, r)
	}
	return m, nil
}

// Map returns the target namespace of ns and whether ns is restored.
func (m *nsMapper) Map(ns string) (string, bool) {
	if len(m.include) > 0 && !matchAny(m.include, ns) {
		return "", false
	}
	if matchAny(m.exclude, ns) {
		return "", false
	}
	for _, r := range m.renames {
		sub := r.from.FindStringSubmatch(ns)
		if sub == nil {
			continue
		}
		out := r.to
		for i, v := range r.vars {
			out = strings.ReplaceAll(out, "$"+v+"$", sub[i+1])
		}
		return out, true
	}
	return ns, true
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// globPattern turns an --nsInclude/--nsExclude pattern into an anchored
// regular expression.
func globPattern(p string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 == len(p) {
				return nil, fmt.Errorf("ends with an escape character")
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		case '*':
			b.WriteString(".*")
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// newRename compiles an --nsFrom/--nsTo pair: every $var$ of to must be
// captured by from.
func newRename(from, to string) (rename, error) {
	var b strings.Builder
	b.WriteString("^")
	r := rename{to: to}
	seen := map[string]bool{}
	for i := 0; i < len(from); i++ {
		switch c := from[i]; c {
		case '\\':
			if i+1 == len(from) {
				return r, fmt.Errorf("--nsFrom %q ends with an escape character", from)
			}
			i++
			b.WriteString(regexp.QuoteMeta(from[i : i+1]))
		case '$':
			end := strings.IndexByte(from[i+1:], '$')
			if end < 0 {
				return r, fmt.Errorf("--nsFrom %q: variable at offset %d is not closed with $", from, i)
			}
			name := from[i+1 : i+1+end]
			if name == "" || seen[name] {
				return r, fmt.Errorf("--nsFrom %q: variable $%s$ is empty or repeated", from, name)
			}
			seen[name] = true
			r.vars = append(r.vars, name)
			b.WriteString("(.*?)")
			i += end + 1
		default:
			b.WriteString(regexp.QuoteMeta(from[i : i+1]))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile(b.String())
	if err != nil {
		return r, fmt.Errorf("--nsFrom %q: %w", from, err)
	}
	r.from = re
	for rest := to; ; {
		i := strings.IndexByte(rest, '$')
		if i < 0 {
			break
		}
		end := strings.IndexByte(rest[i+1:], '$')
		if end < 0 {
			return r, fmt.Errorf("--nsTo %q: a variable is not closed with $", to)
		}
		if name := rest[i+1 : i+1+end]; !seen[name] {
			return r, fmt.Errorf("--nsTo %q uses $%s$, which --nsFrom %q does not define", to, name, from)
		}
		rest = rest[i+1+end+1:]
	}
	return r, nil
}
