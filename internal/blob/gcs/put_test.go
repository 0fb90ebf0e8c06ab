package gcs

import (
	"bytes"
	"io"
	"net/url"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	fp "github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

// TestPutRetriesAnswerCutShort: the storage client does not retry a
// single-request upload whose answer was cut short after a success status;
// Put sends its in-memory data again, up to MaxAttempts requests.
func TestPutRetriesAnswerCutShort(t *testing.T) {
	srv := testenv.FakeGCS(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"a":1}` + "\n")
	for _, c := range []struct {
		name     string
		rule     fp.Rule
		wantOK   bool
		requests int
	}{
		{"first answer cut short", fp.Nth(fp.GCSUpload, fp.Truncate, 1), true, 2},
		{"every answer cut short", fp.Always(fp.GCSUpload, fp.Truncate), false, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			name := newBucketName(t, srv)
			opts := serverOptions(srv, name)
			p := fp.New(target)
			t.Cleanup(p.Close)
			p.SetRule(c.rule)
			opts.Endpoint = p.URL.String() + target.Path
			opts.MaxAttempts = 3
			b := open(t, opts)
			err := b.WriteAll(t.Context(), "k", data, nil)
			if got := p.Matching(fp.GCSUpload); got != c.requests {
				t.Errorf("%d upload requests, want %d", got, c.requests)
			}
			if !c.wantOK {
				if k := blob.KindOf(err); err == nil || k != blob.KindTransient {
					t.Fatalf("WriteAll with every answer cut short: %v (kind %v), want a transient error", err, k)
				}
				return
			}
			if err != nil {
				t.Fatalf("WriteAll: %v", err)
			}
			r, err := open(t, serverOptions(srv, name)).NewReader(t.Context(), "k")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("object holds %q (%v), want %q", got, err, data)
			}
		})
	}
}
