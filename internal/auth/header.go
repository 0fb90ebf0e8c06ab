package auth

import (
	"errors"
	"strings"
)

// Limits on what parseAuthorization accepts; real credentials are far
// smaller.
const (
	maxAuthorizationLen = 8 << 10
	maxAuthParams       = 32
)

// errBadAuthorization is any malformed Authorization header.
var errBadAuthorization = errors.New("auth: malformed Authorization header")

// authorization is a parsed Authorization header (RFC 7235 §2.1):
// a scheme followed by either auth-params or a token68.
type authorization struct {
	// Scheme is as sent; compare it case-insensitively.
	Scheme string
	// Params holds auth-params with lower-cased names and unquoted values;
	// nil when the credentials are a token68.
	Params map[string]string
	// Token68 is the token68 form (Bearer tokens); empty for auth-params.
	Token68 string
}

// parseAuthorization parses an Authorization header value. Parameter names
// are case-insensitive and may appear only once; values are tokens or
// quoted strings (backslash escapes honoured).
func parseAuthorization(h string) (*authorization, error) {
	if len(h) > maxAuthorizationLen {
		return nil, errBadAuthorization
	}
	s := strings.Trim(h, " \t")
	i := 0
	for i < len(s) && isTchar(s[i]) {
		i++
	}
	if i == 0 || (i < len(s) && s[i] != ' ') {
		return nil, errBadAuthorization
	}
	a := &authorization{Scheme: s[:i]}
	rest := strings.TrimLeft(s[i:], " ")
	if rest == "" {
		return a, nil
	}
	if tok, ok := asToken68(rest); ok {
		a.Token68 = tok
		return a, nil
	}
	params, err := parseParams(rest)
	if err != nil {
		return nil, err
	}
	a.Params = params
	return a, nil
}

// asToken68 recognises the token68 form: ALPHA / DIGIT / "-._~+/" followed
// by optional "=" padding, and nothing else.
func asToken68(s string) (string, bool) {
	i := 0
	for i < len(s) && isToken68Char(s[i]) {
		i++
	}
	if i == 0 {
		return "", false
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	if i != len(s) {
		return "", false // e.g. "a=b": an auth-param list
	}
	return s, true
}

// parseParams parses a comma-separated list of name=value auth-params.
func parseParams(s string) (map[string]string, error) {
	params := map[string]string{}
	i := 0
	for {
		// Skip whitespace and empty list elements.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i == len(s) {
			break
		}
		start := i
		for i < len(s) && isTchar(s[i]) {
			i++
		}
		if i == start {
			return nil, errBadAuthorization
		}
		name := strings.ToLower(s[start:i])
		i = skipOWS(s, i)
		if i == len(s) || s[i] != '=' {
			return nil, errBadAuthorization
		}
		i = skipOWS(s, i+1)
		var value string
		if i < len(s) && s[i] == '"' {
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				switch {
				case c == '"':
					closed = true
				case c == '\\':
					i++
					if i == len(s) || !isQuotedPairChar(s[i]) {
						return nil, errBadAuthorization
					}
					b.WriteByte(s[i])
				case !isQdtext(c):
					return nil, errBadAuthorization
				default:
					b.WriteByte(c)
				}
				i++
				if closed {
					break
				}
			}
			if !closed {
				return nil, errBadAuthorization
			}
			value = b.String()
		} else {
			vs := i
			for i < len(s) && isTchar(s[i]) {
				i++
			}
			if i == vs {
				return nil, errBadAuthorization
			}
			value = s[vs:i]
		}
		if _, dup := params[name]; dup {
			return nil, errBadAuthorization
		}
		if len(params) == maxAuthParams {
			return nil, errBadAuthorization
		}
		params[name] = value
		i = skipOWS(s, i)
		if i < len(s) && s[i] != ',' {
			return nil, errBadAuthorization
		}
	}
	if len(params) == 0 {
		return nil, errBadAuthorization
	}
	return params, nil
}

func skipOWS(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	return i
}

// isTchar reports whether c may appear in an RFC 7230 token.
func isTchar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (0x23 <= c && c <= 0x5b) || (0x5d <= c && c <= 0x7e) || c >= 0x80
}

func isQuotedPairChar(c byte) bool {
	return c == '\t' || (0x20 <= c && c <= 0x7e) || c >= 0x80
}
