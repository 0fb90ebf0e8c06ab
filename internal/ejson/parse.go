package ejson

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ParseDocument turns one Extended JSON document (canonical or relaxed)
// into BSON: with AppendBSON when it covers the document, else with the
// driver's parser, which also writes BSON straight from the JSON tokens
// (no intermediate map or bson.D) and names what is wrong with bad input.
func ParseDocument(text []byte) (bson.Raw, error) {
	doc, ok := AppendBSON(make([]byte, 0, len(text)), text)
	if ok {
		return doc, nil
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(text, false, &raw); err != nil {
		return nil, fmt.Errorf("not an Extended JSON document: %w", err)
	}
	return raw, nil
}

// AppendBSON converts one Extended JSON document (canonical or relaxed)
// straight to BSON, appending it to dst: the reverse of AppendDocument. It covers what exports hold: plain
// JSON values and the wrappers $oid, $numberInt, $numberLong,
// $numberDouble, $date ({"$numberLong"}, or a UTC ISO string with at most
// milliseconds), $binary (v2 form), $timestamp,
// $regularExpression, $symbol, $minKey, $maxKey and $undefined, with
// their fields in the order the specification writes them. For anything
// else ($numberDecimal, $code, legacy forms, odd orders, bad input) it
// returns ok=false and the caller uses the driver's parser, which then
// also produces the error message (ParseDocument does both).
//
// It exists because the driver's parser turns about 16 MB/s of BSON per
// core on exported documents (internal/restore BenchmarkParse), well below what one
// MongoDB server ingests; this path writes BSON while it reads the JSON,
// without the driver's token and value-reader layers. Its output is
// checked byte for byte against the driver's (TestAppendBSONMatchesDriver).
func AppendBSON(dst, text []byte) ([]byte, bool) {
	p := fastParser{in: text, out: dst}
	p.skipWS()
	if !p.document() {
		return dst, false
	}
	p.skipWS()
	if p.pos != len(p.in) {
		return dst, false
	}
	return p.out, true
}

type fastParser struct {
	in  []byte
	pos int
	out []byte
	tmp []byte // scratch for strings
}

func (p *fastParser) skipWS() {
	for p.pos < len(p.in) {
		switch p.in[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *fastParser) peek() byte {
	if p.pos < len(p.in) {
		return p.in[p.pos]
	}
	return 0
}

func (p *fastParser) consume(c byte) bool {
	p.skipWS()
	if p.peek() != c {
		return false
	}
	p.pos++
	return true
}

// document parses an object at pos as an embedded document.
func (p *fastParser) document() bool {
	if !p.consume('{') {
		return false
	}
	start := len(p.out)
	p.out = append(p.out, 0, 0, 0, 0)
	p.skipWS()
	if p.peek() == '}' {
		p.pos++
		return p.closeDoc(start)
	}
	for {
		p.skipWS()
		key, ok := p.str()
		if !ok || len(key) > 0 && key[0] == '$' || hasNUL(key) {
			return false
		}
		if !p.consume(':') {
			return false
		}
		typePos := len(p.out)
		p.out = append(p.out, 0)
		p.out = append(p.out, key...)
		p.out = append(p.out, 0)
		if !p.value(typePos) {
			return false
		}
		if more, ok := p.separator('}'); !more {
			return ok && p.closeDoc(start)
		}
	}
}

func (p *fastParser) array(typePos int) bool {
	p.pos++ // '['
	p.out[typePos] = 0x04
	start := len(p.out)
	p.out = append(p.out, 0, 0, 0, 0)
	p.skipWS()
	if p.peek() == ']' {
		p.pos++
		return p.closeDoc(start)
	}
	for i := 0; ; i++ {
		tp := len(p.out)
		p.out = append(p.out, 0)
		p.out = strconv.AppendInt(p.out, int64(i), 10)
		p.out = append(p.out, 0)
		if !p.value(tp) {
			return false
		}
		if more, ok := p.separator(']'); !more {
			return ok && p.closeDoc(start)
		}
	}
}

// separator consumes what follows an element: a ',' (more is true) or the
// closing byte (ok is true); anything else leaves both false.
func (p *fastParser) separator(closing byte) (more, ok bool) {
	p.skipWS()
	switch p.peek() {
	case ',':
		p.pos++
		return true, true
	case closing:
		p.pos++
		return false, true
	}
	return false, false
}

func (p *fastParser) closeDoc(start int) bool {
	p.out = append(p.out, 0)
	binary.LittleEndian.PutUint32(p.out[start:], uint32(len(p.out)-start))
	return true
}

// value parses any value and sets the type byte at typePos.
func (p *fastParser) value(typePos int) bool {
	p.skipWS()
	switch c := p.peek(); {
	case c == '"':
		s, ok := p.str()
		if !ok {
			return false
		}
		p.out[typePos] = 0x02
		p.appendString(s)
		return true
	case c == '{':
		return p.object(typePos)
	case c == '[':
		return p.array(typePos)
	case c == 't':
		return p.literal("true", typePos, 0x08, 1)
	case c == 'f':
		return p.literal("false", typePos, 0x08, 0)
	case c == 'n':
		return p.literal("null", typePos, 0x0A, -1)
	case c == '-' || c >= '0' && c <= '9':
		return p.number(typePos)
	}
	return false
}

func (p *fastParser) literal(word string, typePos int, t byte, b int) bool {
	if len(p.in)-p.pos < len(word) || string(p.in[p.pos:p.pos+len(word)]) != word {
		return false
	}
	p.pos += len(word)
	p.out[typePos] = t
	if b >= 0 {
		p.out = append(p.out, byte(b))
	}
	return true
}

// number parses a relaxed JSON number: integers become int32 when they
// fit, else int64; numbers with a fraction or exponent become doubles.
// It scans by JSON's grammar (an optional minus, 0 or digits not starting
// with 0, an optional fraction and exponent of at least one digit each):
// strconv alone would also take "00", "+1" or "1.", which the driver
// refuses.
func (p *fastParser) number(typePos int) bool {
	start := p.pos
	digits := func() int {
		n := 0
		for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
			p.pos, n = p.pos+1, n+1
		}
		return n
	}
	if p.peek() == '-' {
		p.pos++
	}
	if p.peek() == '0' {
		p.pos++
	} else if digits() == 0 {
		return false
	}
	isFloat := false
	if p.peek() == '.' {
		p.pos, isFloat = p.pos+1, true
		if digits() == 0 {
			return false
		}
	}
	if c := p.peek(); c == 'e' || c == 'E' {
		p.pos, isFloat = p.pos+1, true
		if c := p.peek(); c == '+' || c == '-' {
			p.pos++
		}
		if digits() == 0 {
			return false
		}
	}
	s := string(p.in[start:p.pos])
	if !isFloat {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		if n >= math.MinInt32 && n <= math.MaxInt32 {
			p.out[typePos] = 0x10
			p.out = binary.LittleEndian.AppendUint32(p.out, uint32(int32(n)))
		} else {
			p.out[typePos] = 0x12
			p.out = binary.LittleEndian.AppendUint64(p.out, uint64(n))
		}
		return true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return false
	}
	p.out[typePos] = 0x01
	p.out = binary.LittleEndian.AppendUint64(p.out, math.Float64bits(f))
	return true
}

// intWrapper parses the string of a $numberInt (bits 32) or $numberLong
// (bits 64) wrapper.
func (p *fastParser) intWrapper(typePos, bits int) bool {
	s, ok := p.str()
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(string(s), 10, bits)
	if err != nil {
		return false
	}
	if bits == 32 {
		p.out[typePos] = 0x10
		p.out = binary.LittleEndian.AppendUint32(p.out, uint32(int32(n)))
	} else {
		p.out[typePos] = 0x12
		p.out = binary.LittleEndian.AppendUint64(p.out, uint64(n))
	}
	return true
}

func (p *fastParser) appendString(s []byte) {
	p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(s)+1))
	p.out = append(p.out, s...)
	p.out = append(p.out, 0)
}

// object parses an object value: a type wrapper when its first key is one
// this parser knows, a subdocument when it does not start with "$".
func (p *fastParser) object(typePos int) bool {
	save := p.pos
	p.pos++ // '{'
	p.skipWS()
	if p.peek() != '"' || p.pos+1 >= len(p.in) || p.in[p.pos+1] != '$' {
		p.pos = save
		p.out[typePos] = 0x03
		return p.document()
	}
	key, ok := p.str()
	if !ok || !p.consume(':') {
		return false
	}
	p.skipWS()
	switch string(key) {
	case "$oid":
		s, ok := p.str()
		if !ok || len(s) != 24 {
			return false
		}
		p.out[typePos] = 0x07
		n := len(p.out)
		p.out = append(p.out, make([]byte, 12)...)
		if _, err := hex.Decode(p.out[n:], s); err != nil {
			return false
		}
	case "$numberInt":
		if !p.intWrapper(typePos, 32) {
			return false
		}
	case "$numberLong":
		if !p.intWrapper(typePos, 64) {
			return false
		}
	case "$numberDouble":
		s, ok := p.str()
		if !ok {
			return false
		}
		var f float64
		switch string(s) {
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		case "NaN":
			f = math.NaN()
		default:
			var err error
			if f, err = strconv.ParseFloat(string(s), 64); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
				return false
			}
		}
		p.out[typePos] = 0x01
		p.out = binary.LittleEndian.AppendUint64(p.out, math.Float64bits(f))
	case "$date":
		if p.peek() == '"' {
			// Relaxed form: only the shape relaxed writers produce,
			// YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z; other ISO-8601 spellings
			// are left to the driver.
			s, ok := p.str()
			if !ok {
				return false
			}
			ms, ok := isoMillis(s)
			if !ok {
				return false
			}
			p.out[typePos] = 0x09
			p.out = binary.LittleEndian.AppendUint64(p.out, uint64(ms))
			break
		}
		if p.peek() != '{' {
			return false
		}
		p.pos++
		p.skipWS()
		k, ok := p.str()
		if !ok || string(k) != "$numberLong" || !p.consume(':') {
			return false
		}
		p.skipWS()
		s, ok := p.str()
		if !ok {
			return false
		}
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil || !p.consume('}') {
			return false
		}
		p.out[typePos] = 0x09
		p.out = binary.LittleEndian.AppendUint64(p.out, uint64(n))
	case "$binary":
		// {"base64": "...", "subType": "hh"}
		if !p.consume('{') {
			return false
		}
		data, ok := p.field("base64")
		if !ok || !p.consume(',') {
			return false
		}
		data = append([]byte(nil), data...)
		sub, ok := p.field("subType")
		if !ok || len(sub) == 0 || len(sub) > 2 || !p.consume('}') {
			return false
		}
		st, err := strconv.ParseUint(string(sub), 16, 8)
		if err != nil {
			return false
		}
		raw := make([]byte, base64.StdEncoding.DecodedLen(len(data)))
		n, err := base64.StdEncoding.Decode(raw, data)
		if err != nil {
			return false
		}
		raw = raw[:n]
		p.out[typePos] = 0x05
		if st == 2 {
			// The old binary subtype carries its own length inside.
			p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(raw)+4))
			p.out = append(p.out, 2)
			p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(raw)))
		} else {
			p.out = binary.LittleEndian.AppendUint32(p.out, uint32(len(raw)))
			p.out = append(p.out, byte(st))
		}
		p.out = append(p.out, raw...)
	case "$timestamp":
		// {"t": n, "i": n}
		if !p.consume('{') {
			return false
		}
		t, ok := p.uintField("t")
		if !ok || !p.consume(',') {
			return false
		}
		i, ok := p.uintField("i")
		if !ok || !p.consume('}') {
			return false
		}
		p.out[typePos] = 0x11
		p.out = binary.LittleEndian.AppendUint32(p.out, i)
		p.out = binary.LittleEndian.AppendUint32(p.out, t)
	case "$regularExpression":
		if !p.consume('{') {
			return false
		}
		pat, ok := p.field("pattern")
		if !ok || hasNUL(pat) || !p.consume(',') {
			return false
		}
		pat = append([]byte(nil), pat...)
		opts, ok := p.field("options")
		if !ok || hasNUL(opts) || !p.consume('}') || !sortedOptions(opts) {
			return false
		}
		p.out[typePos] = 0x0B
		p.out = append(p.out, pat...)
		p.out = append(p.out, 0)
		p.out = append(p.out, opts...)
		p.out = append(p.out, 0)
	case "$symbol":
		s, ok := p.str()
		if !ok {
			return false
		}
		p.out[typePos] = 0x0E
		p.appendString(s)
	case "$minKey", "$maxKey":
		if len(p.in)-p.pos < 1 || p.in[p.pos] != '1' {
			return false
		}
		p.pos++
		p.out[typePos] = 0xFF
		if key[2] == 'a' {
			p.out[typePos] = 0x7F
		}
	case "$undefined":
		if len(p.in)-p.pos < 4 || string(p.in[p.pos:p.pos+4]) != "true" {
			return false
		}
		p.pos += 4
		p.out[typePos] = 0x06
	default:
		return false
	}
	return p.consume('}')
}

// sortedOptions reports whether regular expression options are already
// in the order the driver stores them (it sorts them).
func sortedOptions(o []byte) bool {
	for i := 1; i < len(o); i++ {
		if o[i] < o[i-1] {
			return false
		}
	}
	return true
}

// field parses `"name": "string"` and returns the string.
func (p *fastParser) field(name string) ([]byte, bool) {
	p.skipWS()
	k, ok := p.str()
	if !ok || string(k) != name || !p.consume(':') {
		return nil, false
	}
	p.skipWS()
	return p.str()
}

// uintField parses `"name": <uint32>`.
func (p *fastParser) uintField(name string) (uint32, bool) {
	p.skipWS()
	k, ok := p.str()
	if !ok || string(k) != name || !p.consume(':') {
		return 0, false
	}
	p.skipWS()
	start := p.pos
	for p.pos < len(p.in) && p.in[p.pos] >= '0' && p.in[p.pos] <= '9' {
		p.pos++
	}
	n, err := strconv.ParseUint(string(p.in[start:p.pos]), 10, 32)
	return uint32(n), err == nil
}

// str parses a JSON string at pos; the result is valid until the next
// call (it may alias the input or the scratch buffer).
func (p *fastParser) str() ([]byte, bool) {
	if p.peek() != '"' {
		return nil, false
	}
	p.pos++
	start := p.pos
	// Fast path: no escapes.
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		if c == '"' {
			s := p.in[start:p.pos]
			p.pos++
			if !utf8.Valid(s) {
				return nil, false
			}
			return s, true
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, false
		}
		p.pos++
	}
	p.tmp = append(p.tmp[:0], p.in[start:p.pos]...)
	for p.pos < len(p.in) {
		c := p.in[p.pos]
		switch {
		case c == '"':
			p.pos++
			if !utf8.Valid(p.tmp) {
				return nil, false
			}
			return p.tmp, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			p.tmp = append(p.tmp, c)
			p.pos++
			continue
		}
		if p.pos+1 >= len(p.in) {
			return nil, false
		}
		e := p.in[p.pos+1]
		p.pos += 2
		switch e {
		case '"', '\\', '/':
			p.tmp = append(p.tmp, e)
		case 'b':
			p.tmp = append(p.tmp, '\b')
		case 'f':
			p.tmp = append(p.tmp, '\f')
		case 'n':
			p.tmp = append(p.tmp, '\n')
		case 'r':
			p.tmp = append(p.tmp, '\r')
		case 't':
			p.tmp = append(p.tmp, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(r) {
				if p.pos+1 >= len(p.in) || p.in[p.pos] != '\\' || p.in[p.pos+1] != 'u' {
					return nil, false
				}
				p.pos += 2
				r2, ok := p.hex4()
				if !ok {
					return nil, false
				}
				if r = utf16.DecodeRune(r, r2); r == utf8.RuneError {
					return nil, false
				}
			}
			p.tmp = utf8.AppendRune(p.tmp, r)
		default:
			return nil, false
		}
	}
	return nil, false
}

func (p *fastParser) hex4() (rune, bool) {
	if len(p.in)-p.pos < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.in[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(n), true
}

func hasNUL(s []byte) bool {
	for _, c := range s {
		if c == 0 {
			return true
		}
	}
	return false
}

// isoMillis parses YYYY-MM-DDTHH:MM:SS[.f{1,3}]Z (years 1970–9999, the
// range relaxed Extended JSON writes as strings) into milliseconds since
// the epoch.
func isoMillis(s []byte) (int64, bool) {
	if len(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len(s)-1] != 'Z' {
		return 0, false
	}
	num := func(b []byte) (int, bool) {
		n := 0
		for _, c := range b {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	year, ok1 := num(s[0:4])
	month, ok2 := num(s[5:7])
	day, ok3 := num(s[8:10])
	hour, ok4 := num(s[11:13])
	minute, ok5 := num(s[14:16])
	sec, ok6 := num(s[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return 0, false
	}
	ms := 0
	switch frac := s[19 : len(s)-1]; {
	case len(frac) == 0:
	case frac[0] == '.' && len(frac) >= 2 && len(frac) <= 4:
		f, ok := num(frac[1:])
		if !ok {
			return 0, false
		}
		for range 4 - len(frac) {
			f *= 10
		}
		ms = f
	default:
		return 0, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	if t.Day() != day { // 31 February and its kind
		return 0, false
	}
	return t.Unix()*1000 + int64(ms), true
}
