// Package ejson writes raw BSON documents as canonical MongoDB Extended
// JSON v2, the format of Atlas snapshot exports and of bsondump.
//
// It is hand-written rather than a call to the driver because the export
// pipeline would otherwise spend most of its CPU here: the driver's
// bson.MarshalExtJSON goes through reflection, a value reader and a value
// writer with a state stack, and allocates for nearly every value (hundreds
// of allocations per 1 KiB document), which makes it at least five times
// slower than walking the raw bytes once and appending the text into a
// reused buffer (BenchmarkAppendDocument vs BenchmarkDriverMarshalExtJSON).
// This package does exactly that: one iterative pass, no reflection, no
// allocations per document in steady state.
//
// The output is byte-for-byte what the driver's
// bson.MarshalExtJSON(bson.Raw(doc), true, false) produces (canonical mode,
// no HTML escaping, which is how mongo-tools' bsondump calls it), except for
// the few malformed or hostile inputs listed on [AppendDocument], where this
// package is stricter or produces valid JSON where the driver does not.
package ejson

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// BSON element type bytes.
const (
	typeDouble     = 0x01
	typeString     = 0x02
	typeDocument   = 0x03
	typeArray      = 0x04
	typeBinary     = 0x05
	typeUndefined  = 0x06
	typeObjectID   = 0x07
	typeBoolean    = 0x08
	typeDateTime   = 0x09
	typeNull       = 0x0A
	typeRegex      = 0x0B
	typeDBPointer  = 0x0C
	typeJavaScript = 0x0D
	typeSymbol     = 0x0E
	typeCodeScope  = 0x0F
	typeInt32      = 0x10
	typeTimestamp  = 0x11
	typeInt64      = 0x12
	typeDecimal128 = 0x13
	typeMaxKey     = 0x7F
	typeMinKey     = 0xFF
)

// Kinds of open containers on the walker's stack.
const (
	kindDocument = iota
	kindArray
	kindScope // the scope document of a code-with-scope value
)

// frame is an open document or array: end is the offset of its terminating
// NUL byte, so every element of the container lies in [start, end).
type frame struct {
	end  int
	kind int
}

// inlineDepth frames live on the goroutine stack; deeper nesting (MongoDB
// itself stops at 100 levels) spills into a heap slice.
const inlineDepth = 32

// Errors for inputs that the driver accepts but this package rejects on
// purpose. Each is wrapped by the error AppendDocument returns.
var (
	// errTrailingBytes: the slice is longer than the document's declared
	// length. The driver silently ignores the extra bytes; a caller that
	// frames documents wrongly should hear about it instead.
	errTrailingBytes = errors.New("bytes after the end of the document")
	// errOldBinaryLength: binary subtype 0x02 whose inner length is not the
	// outer length minus 4. The driver truncates the payload at the top
	// level and loses its place in nested documents.
	errOldBinaryLength = errors.New("old binary (subtype 0x02) inner length does not match outer length")
	// errCodeNotTerminated: the code string of a code-with-scope value does
	// not end in a NUL byte. The driver drops its last byte unchecked.
	errCodeNotTerminated = errors.New("code-with-scope code string does not end with NUL")
)

// MalformedError describes why a document could not be converted: the byte
// offset into the document where the problem was found, the BSON type of the
// element being read (0 when not inside an element) and what was wrong.
type MalformedError struct {
	Offset int
	Type   byte
	Reason string
	err    error
}

// Error implements error.
func (e *MalformedError) Error() string {
	if e.Type != 0 {
		return fmt.Sprintf("ejson: malformed BSON at offset %d (element type 0x%02x): %s", e.Offset, e.Type, e.Reason)
	}
	return fmt.Sprintf("ejson: malformed BSON at offset %d: %s", e.Offset, e.Reason)
}

// Unwrap returns the specific cause, if any.
func (e *MalformedError) Unwrap() error { return e.err }

// malformed builds the error value; kept out of line so the hot loop stays
// small.
//
//go:noinline
func malformed(off int, t byte, reason string) error {
	return &MalformedError{Offset: off, Type: t, Reason: reason}
}

//go:noinline
func malformedWrap(off int, t byte, err error) error {
	return &MalformedError{Offset: off, Type: t, Reason: err.Error(), err: err}
}

// AppendDocument appends the canonical Extended JSON v2 text of the BSON
// document doc to dst and returns the extended buffer. No newline is added.
// doc must hold exactly one document. On malformed input it returns dst
// unchanged in length (its spare capacity may have been written to) and a
// *MalformedError; it never panics and never reads outside doc.
//
// The output equals bson.MarshalExtJSON(bson.Raw(doc), true, false) from
// go.mongodb.org/mongo-driver/v2 byte for byte, with these deliberate
// differences:
//
//   - bytes after the declared document length are an error (the driver
//     ignores them);
//   - binary subtype 0x02 (old binary) whose inner length is not the outer
//     length minus 4 is an error (the driver truncates or misparses it);
//     an old binary with outer length of 4 or less has no inner length and
//     is written as is, like the driver does;
//   - a code-with-scope whose code string lacks its NUL terminator is an
//     error (the driver drops the last byte);
//   - the namespace of a DBPointer is escaped like every other string (the
//     driver writes it raw, producing invalid JSON when it contains a quote,
//     a backslash, a control character or invalid UTF-8); for ordinary
//     namespaces the output is the same.
//
// Nesting depth is limited only by the size of the document.
func AppendDocument(dst []byte, doc []byte) ([]byte, error) {
	n := len(doc)
	if n < 5 {
		return dst, malformed(0, 0, fmt.Sprintf("document is %d bytes, the minimum is 5", n))
	}
	declared := int(int32(binary.LittleEndian.Uint32(doc)))
	switch {
	case declared < 5:
		return dst, malformed(0, 0, fmt.Sprintf("declared document length %d is less than 5", declared))
	case declared > n:
		return dst, malformed(0, 0, fmt.Sprintf("declared document length %d exceeds the %d bytes given", declared, n))
	case declared < n:
		return dst, malformedWrap(declared, 0, fmt.Errorf("%w: declared length %d, %d bytes given", errTrailingBytes, declared, n))
	}

	start := len(dst)
	out, err := appendDoc(dst, doc)
	if err != nil {
		return dst[:start], err
	}
	return out, nil
}

// appendDoc walks a length-checked document iteratively.
func appendDoc(dst, doc []byte) ([]byte, error) {
	var inline [inlineDepth]frame
	stack := inline[:1]
	stack[0] = frame{end: len(doc) - 1, kind: kindDocument}
	end, kind := len(doc)-1, kindDocument

	// Grow once up front: canonical EJSON is typically 1.2–1.5x the BSON.
	dst = slices.Grow(dst, len(doc)+len(doc)/2)
	dst = append(dst, '{')
	pos := 4

	for {
		// Invariant: pos <= end. At end, the container must terminate.
		if pos == end {
			if doc[pos] != 0 {
				return dst, malformed(pos, 0, "missing NUL at the end of a document or array")
			}
			pos++
			closer := byte('}')
			if kind == kindArray {
				closer = ']'
			}
			if last := len(dst) - 1; dst[last] == ',' {
				dst[last] = closer
			} else {
				dst = append(dst, closer)
			}
			if kind == kindScope {
				dst = append(dst, '}')
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return dst, nil
			}
			dst = append(dst, ',')
			top := stack[len(stack)-1]
			end, kind = top.end, top.kind
			continue
		}

		t := doc[pos]
		elemStart := pos
		if kind != kindArray {
			var ok bool
			if dst, pos, ok = appendKey(dst, doc, pos+1, end); !ok {
				return dst, malformed(elemStart, t, "element name is not NUL-terminated within its document")
			}
		} else {
			// Array keys ("0", "1", ...) are not written; just skip them.
			pos++
			for pos < end && doc[pos] != 0 {
				pos++
			}
			if pos == end {
				return dst, malformed(elemStart, t, "element name is not NUL-terminated within its document")
			}
			pos++
		}
		avail := end - pos // bytes available for the value

		switch t {
		case typeDouble:
			if avail < 8 {
				return dst, malformed(elemStart, t, "truncated double")
			}
			dst = append(dst, `{"$numberDouble":"`...)
			dst = appendDouble(dst, binary.LittleEndian.Uint64(doc[pos:]))
			dst = append(dst, `"},`...)
			pos += 8

		case typeString:
			s, next, err := readString(doc, pos, avail, elemStart, t)
			if err != nil {
				return dst, err
			}
			dst = appendString(dst, s)
			dst = append(dst, ',')
			pos = next

		case typeDocument, typeArray:
			if avail < 5 {
				return dst, malformed(elemStart, t, "truncated embedded document or array")
			}
			l := int(int32(binary.LittleEndian.Uint32(doc[pos:])))
			if l < 5 || l > avail {
				return dst, malformed(elemStart, t, fmt.Sprintf("embedded length %d outside [5, %d]", l, avail))
			}
			end = pos + l - 1
			if t == typeDocument {
				kind = kindDocument
				dst = append(dst, '{')
			} else {
				kind = kindArray
				dst = append(dst, '[')
			}
			stack = append(stack, frame{end: end, kind: kind})
			pos += 4

		case typeBinary:
			if avail < 5 {
				return dst, malformed(elemStart, t, "truncated binary")
			}
			l := int(int32(binary.LittleEndian.Uint32(doc[pos:])))
			if l < 0 || l > avail-5 {
				return dst, malformed(elemStart, t, fmt.Sprintf("binary length %d outside [0, %d]", l, avail-5))
			}
			sub := doc[pos+4]
			data := doc[pos+5 : pos+5+l]
			if sub == 0x02 && l > 4 {
				inner := int(int32(binary.LittleEndian.Uint32(data)))
				if inner < 0 {
					return dst, malformed(elemStart, t, fmt.Sprintf("old binary (subtype 0x02) inner length %d is negative", inner))
				}
				if inner != l-4 {
					return dst, malformedWrap(elemStart, t, fmt.Errorf("%w: outer %d, inner %d", errOldBinaryLength, l, inner))
				}
				data = data[4:]
			}
			dst = append(dst, `{"$binary":{"base64":"`...)
			dst = base64.StdEncoding.AppendEncode(dst, data)
			dst = append(dst, `","subType":"`...)
			dst = append(dst, hexDigits[sub>>4], hexDigits[sub&0xF])
			dst = append(dst, `"}},`...)
			pos += 5 + l

		case typeUndefined:
			dst = append(dst, `{"$undefined":true},`...)

		case typeObjectID:
			if avail < 12 {
				return dst, malformed(elemStart, t, "truncated ObjectId")
			}
			dst = append(dst, `{"$oid":"`...)
			dst = appendHex(dst, doc[pos:pos+12])
			dst = append(dst, `"},`...)
			pos += 12

		case typeBoolean:
			if avail < 1 {
				return dst, malformed(elemStart, t, "truncated boolean")
			}
			switch doc[pos] {
			case 0:
				dst = append(dst, "false,"...)
			case 1:
				dst = append(dst, "true,"...)
			default:
				return dst, malformed(elemStart, t, fmt.Sprintf("boolean byte 0x%02x is neither 0 nor 1", doc[pos]))
			}
			pos++

		case typeDateTime:
			if avail < 8 {
				return dst, malformed(elemStart, t, "truncated datetime")
			}
			dst = append(dst, `{"$date":{"$numberLong":"`...)
			dst = appendInt(dst, int64(binary.LittleEndian.Uint64(doc[pos:])))
			dst = append(dst, `"}},`...)
			pos += 8

		case typeNull:
			dst = append(dst, "null,"...)

		case typeRegex:
			p := bytes.IndexByte(doc[pos:end], 0)
			if p < 0 {
				return dst, malformed(elemStart, t, "regex pattern is not NUL-terminated")
			}
			o := bytes.IndexByte(doc[pos+p+1:end], 0)
			if o < 0 {
				return dst, malformed(elemStart, t, "regex options are not NUL-terminated")
			}
			dst = append(dst, `{"$regularExpression":{"pattern":`...)
			dst = appendString(dst, doc[pos:pos+p])
			dst = append(dst, `,"options":`...)
			dst = appendRegexOptions(dst, doc[pos+p+1:pos+p+1+o])
			dst = append(dst, `}},`...)
			pos += p + o + 2

		case typeDBPointer:
			ns, next, err := readString(doc, pos, avail, elemStart, t)
			if err != nil {
				return dst, err
			}
			if end-next < 12 {
				return dst, malformed(elemStart, t, "truncated DBPointer ObjectId")
			}
			dst = append(dst, `{"$dbPointer":{"$ref":`...)
			dst = appendString(dst, ns)
			dst = append(dst, `,"$id":{"$oid":"`...)
			dst = appendHex(dst, doc[next:next+12])
			dst = append(dst, `"}}},`...)
			pos = next + 12

		case typeJavaScript:
			s, next, err := readString(doc, pos, avail, elemStart, t)
			if err != nil {
				return dst, err
			}
			dst = append(dst, `{"$code":`...)
			dst = appendString(dst, s)
			dst = append(dst, "},"...)
			pos = next

		case typeSymbol:
			s, next, err := readString(doc, pos, avail, elemStart, t)
			if err != nil {
				return dst, err
			}
			dst = append(dst, `{"$symbol":`...)
			dst = appendString(dst, s)
			dst = append(dst, "},"...)
			pos = next

		case typeCodeScope:
			// total(4) | code length(4) | code | NUL | scope document
			if avail < 4 {
				return dst, malformed(elemStart, t, "truncated code with scope")
			}
			total := int(int32(binary.LittleEndian.Uint32(doc[pos:])))
			if total < 14 || total > avail {
				return dst, malformed(elemStart, t, fmt.Sprintf("code-with-scope length %d outside [14, %d]", total, avail))
			}
			sl := int(int32(binary.LittleEndian.Uint32(doc[pos+4:])))
			if sl < 1 || sl > total-13 {
				return dst, malformed(elemStart, t, fmt.Sprintf("code-with-scope string length %d outside [1, %d]", sl, total-13))
			}
			scope := pos + 8 + sl
			if doc[scope-1] != 0 {
				return dst, malformedWrap(elemStart, t, errCodeNotTerminated)
			}
			if sz := int(int32(binary.LittleEndian.Uint32(doc[scope:]))); sz != total-8-sl {
				return dst, malformed(elemStart, t, fmt.Sprintf("code-with-scope length %d does not match its parts (scope length %d, code length %d)", total, sz, sl))
			}
			dst = append(dst, `{"$code":`...)
			dst = appendString(dst, doc[pos+8:scope-1])
			dst = append(dst, `,"$scope":{`...)
			end, kind = pos+total-1, kindScope
			stack = append(stack, frame{end: end, kind: kind})
			pos = scope + 4

		case typeInt32:
			if avail < 4 {
				return dst, malformed(elemStart, t, "truncated int32")
			}
			dst = append(dst, `{"$numberInt":"`...)
			dst = appendInt(dst, int64(int32(binary.LittleEndian.Uint32(doc[pos:]))))
			dst = append(dst, `"},`...)
			pos += 4

		case typeTimestamp:
			if avail < 8 {
				return dst, malformed(elemStart, t, "truncated timestamp")
			}
			dst = append(dst, `{"$timestamp":{"t":`...)
			dst = appendUint(dst, uint64(binary.LittleEndian.Uint32(doc[pos+4:])))
			dst = append(dst, `,"i":`...)
			dst = appendUint(dst, uint64(binary.LittleEndian.Uint32(doc[pos:])))
			dst = append(dst, "}},"...)
			pos += 8

		case typeInt64:
			if avail < 8 {
				return dst, malformed(elemStart, t, "truncated int64")
			}
			dst = append(dst, `{"$numberLong":"`...)
			dst = appendInt(dst, int64(binary.LittleEndian.Uint64(doc[pos:])))
			dst = append(dst, `"},`...)
			pos += 8

		case typeDecimal128:
			if avail < 16 {
				return dst, malformed(elemStart, t, "truncated decimal128")
			}
			dst = append(dst, `{"$numberDecimal":"`...)
			dst = appendDecimal128(dst, binary.LittleEndian.Uint64(doc[pos+8:]), binary.LittleEndian.Uint64(doc[pos:]))
			dst = append(dst, `"},`...)
			pos += 16

		case typeMaxKey:
			dst = append(dst, `{"$maxKey":1},`...)

		case typeMinKey:
			dst = append(dst, `{"$minKey":1},`...)

		default:
			return dst, malformed(elemStart, t, "unknown element type")
		}
	}
}

// readString checks a BSON string (int32 length including the NUL, bytes,
// NUL) starting at pos with avail bytes before the container's end, and
// returns its bytes without the NUL and the offset just past it.
func readString(doc []byte, pos, avail, elemStart int, t byte) ([]byte, int, error) {
	if avail < 5 {
		return nil, 0, malformed(elemStart, t, "truncated string")
	}
	l := int(int32(binary.LittleEndian.Uint32(doc[pos:])))
	if l < 1 || l > avail-4 {
		return nil, 0, malformed(elemStart, t, fmt.Sprintf("string length %d outside [1, %d]", l, avail-4))
	}
	next := pos + 4 + l
	if doc[next-1] != 0 {
		return nil, 0, malformed(elemStart, t, "string does not end with NUL")
	}
	return doc[pos+4 : next-1], next, nil
}

const hexDigits = "0123456789abcdef"

// appendHex appends the lower-case hexadecimal form of b.
func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xF])
	}
	return dst
}
