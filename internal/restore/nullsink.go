package restore

import (
	"fmt"
	"io"
)

// ParseToNull reads Extended JSON lines from r, as a restore does, turns
// each into BSON with the restore's parser and discards it. It returns
// the documents and the BSON bytes produced, so that a benchmark can
// show how fast snapex's input side is without any server behind it.
func ParseToNull(r io.Reader) (docs, bsonBytes int64, err error) {
	sp := newSplitter(r)
	for {
		line, n, err := sp.next()
		if err == io.EOF {
			return docs, bsonBytes, nil
		}
		if err != nil {
			return docs, bsonBytes, fmt.Errorf("line %d: %w", n, err)
		}
		doc, err := parseDocument(line)
		if err != nil {
			return docs, bsonBytes, fmt.Errorf("line %d: %w", n, err)
		}
		docs++
		bsonBytes += int64(len(doc))
	}
}
