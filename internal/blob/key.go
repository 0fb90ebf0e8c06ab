package blob

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxKeyLen is the longest key accepted, in bytes: the smallest limit of
// the supported stores (S3 and GCS allow 1024 bytes).
const MaxKeyLen = 1024

// ValidateKey checks that key is a portable object key: non-empty, at most
// MaxKeyLen bytes of valid UTF-8 without control characters (NUL
// included) or backslashes, not absolute, and made of non-empty "/"-separated segments of
// which none is "." or "..". These rules keep keys meaningful on every
// store and keep the local driver inside its directory.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("key is empty")
	}
	if err := checkChars(key); err != nil {
		return err
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("key %q is absolute (starts with /)", key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("key %q has an empty path segment", key)
		case ".", "..":
			return fmt.Errorf("key %q has a %q path segment", key, seg)
		}
	}
	return nil
}

// ValidatePrefix checks a listing prefix. The empty prefix is valid; other
// prefixes follow the ValidateKey rules, except that the last segment may
// be empty (a prefix ending in "/") or any beginning of a segment.
func ValidatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkChars(prefix); err != nil {
		return err
	}
	if strings.HasPrefix(prefix, "/") {
		return fmt.Errorf("prefix %q is absolute (starts with /)", prefix)
	}
	segs := strings.Split(prefix, "/")
	for _, seg := range segs[:len(segs)-1] {
		switch seg {
		case "":
			return fmt.Errorf("prefix %q has an empty path segment", prefix)
		case ".", "..":
			return fmt.Errorf("prefix %q has a %q path segment", prefix, seg)
		}
	}
	return nil
}

func checkChars(s string) error {
	if len(s) > MaxKeyLen {
		return fmt.Errorf("key is %d bytes long, more than the %d allowed", len(s), MaxKeyLen)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("key %q is not valid UTF-8", s)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == 0x7f:
			return fmt.Errorf("key %q contains control character %#02x", s, c)
		case c == '\\':
			return fmt.Errorf("key %q contains a backslash, which Azure stores as /", s)
		}
	}
	return nil
}
