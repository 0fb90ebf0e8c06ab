package config

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Secret is a value given as a reference, env:NAME or file:PATH, resolved at
// load time. Its String form never reveals the value.
type Secret struct {
	Ref   string // as written in the file
	value string
}

// UnmarshalText keeps the reference as written.
func (s *Secret) UnmarshalText(b []byte) error { s.Ref = string(b); return nil }

// Value is the resolved secret.
func (s Secret) Value() string { return s.value }

// IsSet reports whether the file gave a value.
func (s Secret) IsSet() bool { return s.Ref != "" }

// String hides the value.
func (s Secret) String() string {
	if s.Ref == "" {
		return ""
	}
	if isReference(s.Ref) {
		return s.Ref
	}
	return "<literal>"
}

func isReference(ref string) bool {
	return strings.HasPrefix(ref, "env:") || strings.HasPrefix(ref, "file:")
}

// resolve reads the referenced value. baseDir anchors relative file paths.
// allowLiteral decides whether a plain value is accepted.
func (s *Secret) resolve(baseDir string, allowLiteral func(string) error) error {
	switch {
	case s.Ref == "":
		return nil
	case strings.HasPrefix(s.Ref, "env:"):
		name := strings.TrimPrefix(s.Ref, "env:")
		v, ok := os.LookupEnv(name)
		if !ok {
			return fmt.Errorf("environment variable %s (from %q) is not set", name, s.Ref)
		}
		s.value = v
	case strings.HasPrefix(s.Ref, "file:"):
		p := strings.TrimPrefix(s.Ref, "file:")
		if !filepath.IsAbs(p) {
			p = filepath.Join(baseDir, p)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("cannot read secret file for %q: %w", s.Ref, err)
		}
		s.value = strings.TrimRight(string(b), "\r\n")
	default:
		if allowLiteral == nil {
			return fmt.Errorf("secrets must be references (env:NAME or file:PATH), not literal values")
		}
		if err := allowLiteral(s.Ref); err != nil {
			return err
		}
		s.value = s.Ref
	}
	return nil
}

// literalWithoutPassword accepts connection strings and URLs that carry no
// password; those with one must come from a reference.
func literalWithoutPassword(v string) error {
	u, err := url.Parse(v)
	if err == nil && u.User != nil {
		if _, has := u.User.Password(); has {
			return fmt.Errorf("a connection string with a password must be given as env:NAME or file:PATH")
		}
	}
	return nil
}
