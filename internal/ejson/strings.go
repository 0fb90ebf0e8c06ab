package ejson

import (
	"bytes"
	"encoding/binary"
	"slices"
	"unicode/utf8"
)

// JSON string escaping, matching the driver's rules with HTML escaping off:
//
//   - '"' and '\\' get a backslash; \n \r \t \b \f use their short forms;
//     every other byte below 0x20 becomes \u00XX (lower-case hex);
//   - all other ASCII bytes, including 0x7F and <>&, are copied;
//   - valid UTF-8 is copied, except U+2028 and U+2029 which become
//     \u2028 and \u2029;
//   - every byte that is not part of a valid UTF-8 sequence (as decided by
//     unicode/utf8, so surrogates and overlong forms are invalid) becomes
//     \ufffd.

// escapeShort maps ASCII bytes needing an escape to the letter after the
// backslash, 'u' for the \u00XX form, and 0 for bytes copied as is.
var escapeShort = func() (t [utf8.RuneSelf]byte) {
	for c := range 0x20 {
		t[c] = 'u'
	}
	t['\n'], t['\r'], t['\t'], t['\b'], t['\f'] = 'n', 'r', 't', 'b', 'f'
	t['"'], t['\\'] = '"', '\\'
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainWord reports whether none of the 8 bytes of w needs attention: no
// byte below 0x20, no '"', no '\\' and no byte with the high bit set.
func plainWord(w uint64) bool {
	// Each term has some high bit set iff some byte matches (borrows only
	// start at a matching byte, so the "any" answer is exact).
	ctl := (w - lsb*0x20) &^ w // a byte below 0x20
	q := w ^ (lsb * '"')
	zq := (q - lsb) &^ q // a '"'
	bs := w ^ (lsb * '\\')
	zb := (bs - lsb) &^ bs        // a '\\'
	return (ctl|zq|zb|w)&msb == 0 // w: a byte >= 0x80
}

// appendKey appends the element name starting at doc[pos], which must end
// with a NUL before doc[end], as a quoted, escaped JSON string followed by
// ':'. It returns the offset just past the NUL, and false if there is none.
// Names of plain ASCII are found and copied in one pass.
func appendKey(dst []byte, doc []byte, pos, end int) ([]byte, int, bool) {
	i := pos
	for i+8 <= end && plainWord(binary.LittleEndian.Uint64(doc[i:])) {
		i += 8
	}
	for i < end && doc[i] < utf8.RuneSelf && escapeShort[doc[i]] == 0 {
		i++
	}
	if i < end && doc[i] == 0 {
		dst = append(dst, '"')
		dst = append(dst, doc[pos:i]...)
		return append(dst, '"', ':'), i + 1, true
	}
	k := bytes.IndexByte(doc[i:end], 0)
	if k < 0 {
		return dst, 0, false
	}
	dst = appendString(dst, doc[pos:i+k])
	return append(dst, ':'), i + k + 1, true
}

// appendString appends s as a quoted, escaped JSON string.
func appendString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	start, i := 0, 0
	for i < len(s) {
		// Skip runs of plain ASCII, eight bytes at a time.
		for i+8 <= len(s) && plainWord(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			e := escapeShort[c]
			if e == 0 {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			if e == 'u' {
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			} else {
				dst = append(dst, '\\', e)
			}
			i++
			start = i
			continue
		}
		// Common valid 2- and 3-byte sequences inline; the rest (4-byte,
		// E0/ED with their narrower second byte, invalid bytes, U+2028 and
		// U+2029) through utf8.DecodeRune.
		if c >= 0xC2 && c < 0xE0 && i+1 < len(s) && s[i+1]&0xC0 == 0x80 {
			i += 2
			continue
		}
		if c >= 0xE1 && c < 0xF0 && c != 0xED && i+2 < len(s) && s[i+1]&0xC0 == 0x80 && s[i+2]&0xC0 == 0x80 &&
			(c != 0xE2 || s[i+1] != 0x80 || s[i+2]|1 != 0xA9) {
			i += 3
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendRegexOptions appends the regex options string the way the driver
// does: its code points sorted ascending (each invalid UTF-8 byte counting
// as U+FFFD, which is then written as the character itself), then escaped
// like any string. Options are nearly always a few sorted ASCII letters,
// which take the fast path.
func appendRegexOptions(dst []byte, opts []byte) []byte {
	sorted := true
	for i, c := range opts {
		if c >= utf8.RuneSelf || (i > 0 && c < opts[i-1]) {
			sorted = false
			break
		}
	}
	if sorted {
		return appendString(dst, opts)
	}

	var inline [16]rune
	runes := inline[:0]
	for i := 0; i < len(opts); {
		r, size := utf8.DecodeRune(opts[i:])
		runes = append(runes, r)
		i += size
	}
	slices.Sort(runes)

	var buf [64]byte
	enc := buf[:0]
	for _, r := range runes {
		enc = utf8.AppendRune(enc, r)
	}
	return appendString(dst, enc)
}
