package restore

import (
	"errors"
	"fmt"
	"io"
)

// splitter cuts a stream of Extended JSON documents into documents: one
// per line as Atlas and snapex write them, but any whitespace between
// documents, and documents over several lines, are accepted too.
//
// It is written by hand because it only needs to track strings and braces:
// encoding/json's Decoder would validate every document in full before the
// driver's Extended JSON parser reads it again.
type splitter struct {
	r    io.Reader
	buf  []byte // read buffer
	pos  int    // next unread byte in buf
	end  int    // bytes of buf filled
	line int    // line of the byte at pos (1-based)
	doc  []byte // the document being assembled
	eof  error  // error that ended the input
}

func newSplitter(r io.Reader) *splitter {
	return &splitter{r: r, buf: make([]byte, 256<<10), line: 1}
}

// errTruncated is returned for input that ends inside a document.
var errTruncated = errors.New("input ends inside a document")

// next returns the next document (valid until the following call) and the
// line it starts on; io.EOF after the last one.
func (s *splitter) next() ([]byte, int, error) {
	// Skip whitespace up to the next document.
	for {
		if s.pos == s.end && !s.fill() {
			if s.eof == io.EOF {
				return nil, s.line, io.EOF
			}
			return nil, s.line, s.eof
		}
		c := s.buf[s.pos]
		if c == '{' {
			break
		}
		switch c {
		case '\n':
			s.line++
		case ' ', '\t', '\r':
		default:
			return nil, s.line, fmt.Errorf("unexpected %q between documents (want '{')", c)
		}
		s.pos++
	}
	start := s.line
	s.doc = s.doc[:0]
	depth, inString, escaped := 0, false, false
	for {
		if s.pos == s.end {
			if !s.fill() {
				if s.eof == io.EOF {
					return nil, start, errTruncated
				}
				return nil, start, s.eof
			}
		}
		chunk := s.buf[s.pos:s.end]
		for i, c := range chunk {
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				case c == '\n':
					return nil, start, fmt.Errorf("line break inside a string")
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.doc = append(s.doc, chunk[:i+1]...)
					s.pos += i + 1
					return s.doc, start, nil
				}
			case '\n':
				s.line++
			}
		}
		s.doc = append(s.doc, chunk...)
		s.pos = s.end
	}
}

// fill reads more input into buf; false at the end or on an error
// (kept in s.eof).
func (s *splitter) fill() bool {
	if s.eof != nil {
		return false
	}
	for {
		n, err := s.r.Read(s.buf)
		s.pos, s.end = 0, n
		if err != nil {
			s.eof = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
}
