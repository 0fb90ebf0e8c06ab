package gcs

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	fp "github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

// TestLostUploadAnswer cuts short the answer to the request that
// finishes an upload (the store did the work; the storage client does not
// retry such an answer): single-request uploads (Put) and the last chunk
// of a streamed one must succeed, the object checked instead of sent again.
func TestLostUploadAnswer(t *testing.T) {
	srv := testenv.FakeGCS(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	small := []byte(`{"a":1}` + "\n")
	large := blobtest.Data(5, 2*testChunkSize+99)
	for _, c := range []struct {
		name  string
		data  []byte
		match fp.Match
	}{
		{"single-request upload", small, fp.GCSUpload},
		{"last chunk of a streamed upload", large, fp.All(fp.GCSChunk, func(r *http.Request) bool {
			cr := r.Header.Get("Content-Range")
			return cr != "" && !strings.HasSuffix(cr, "/*")
		})},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := newBucketName(t, srv)
			opts := serverOptions(srv, name)
			p := fp.New(target)
			t.Cleanup(p.Close)
			p.SetRule(fp.Always(c.match, fp.Truncate))
			opts.Endpoint = p.URL.String() + target.Path
			b := open(t, opts)
			if err := b.WriteAll(t.Context(), "k", c.data, nil); err != nil {
				t.Fatalf("WriteAll: %v", err)
			}
			if got := p.Count(fp.KindTruncate); got != 1 {
				t.Errorf("%d answers cut short, want 1 (the request was sent again?)", got)
			}
			r, err := open(t, serverOptions(srv, name)).NewReader(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, c.data) {
				t.Fatalf("object holds %d bytes (%v), want the %d written", len(got), err, len(c.data))
			}
		})
	}
}

// TestStoredChecksTheObject: the check after a lost answer accepts only
// the bytes written — not a missing object, nor one of the same size with
// other content.
func TestStoredChecksTheObject(t *testing.T) {
	srv := testenv.FakeGCS(t)
	name := newBucketName(t, srv)
	d, err := newDriver(t.Context(), serverOptions(srv, name))
	if err != nil {
		t.Fatal(err)
	}
	b := blob.New(d)
	t.Cleanup(func() { _ = b.Close() })
	data := []byte("the bytes written")
	w := d.newWriter(t.Context(), "k", blob.WriterOptions{}, ChunkQuantum)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if w.stored() {
		t.Fatal("stored() accepted a missing object")
	}
	if err := b.WriteAll(t.Context(), "k", []byte("other bytes, same"), nil); err != nil {
		t.Fatal(err)
	}
	if len("other bytes, same") != len(data) {
		t.Fatal("test data must have the same size")
	}
	if w.stored() {
		t.Fatal("stored() accepted an object of the same size with other content")
	}
	if err := b.WriteAll(t.Context(), "k", data, nil); err != nil {
		t.Fatal(err)
	}
	if !w.stored() {
		t.Fatal("stored() refused the object holding the bytes written")
	}
}
