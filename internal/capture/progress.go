package capture

import "sync/atomic"

// Progress counts what a capture has read so far; the job that runs the
// capture publishes it while the capture runs. Every counter only grows.
// A nil *Progress counts nothing.
type Progress struct {
	// Documents and Bytes (BSON) read from the servers.
	Documents, Bytes atomic.Int64
	// Collections is how many namespaces (collections and views) are
	// finished, of CollectionsTotal listed so far over every replica set.
	Collections, CollectionsTotal atomic.Int64
}

func (p *Progress) document(size int) {
	if p != nil {
		p.Documents.Add(1)
		p.Bytes.Add(int64(size))
	}
}

func (p *Progress) listed(n int) {
	if p != nil {
		p.CollectionsTotal.Add(int64(n))
	}
}

func (p *Progress) collectionDone() {
	if p != nil {
		p.Collections.Add(1)
	}
}
