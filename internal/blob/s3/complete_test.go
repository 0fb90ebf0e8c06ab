package s3

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
	fp "github.com/snapex/snapex/internal/faultproxy"
	"github.com/snapex/snapex/internal/testenv"
)

// noSuchUpload is what S3 answers a CompleteMultipartUpload for an upload
// that is gone: completed by an earlier attempt, or aborted.
var noSuchUpload = fp.Fault{Kind: fp.KindError, Status: http.StatusNotFound, Code: "NoSuchUpload"}

// TestLostCompletionAnswer: when the answer to CompleteMultipartUpload is
// cut short, the driver asks again, and S3 answers the repeat with
// NoSuchUpload because the first one completed the object (versitygw
// answers it with success, so the proxy plays S3's part). The write must
// succeed then, and only then: when the upload is gone and the key holds
// nothing, or holds another object, Close fails.
func TestLostCompletionAnswer(t *testing.T) {
	srv := testenv.VersityGW(t)
	target, err := url.Parse(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	const key = "data/rs0.0.json.gz"
	size := 2*MinPartSize + 7
	cases := []struct {
		name    string
		rule    fp.Rule
		earlier []byte // written at the key before, without faults
		wantOK  bool
	}{
		{
			name:   "completed, answer lost",
			rule:   fp.First(fp.Nth(fp.S3CompleteMultipart, fp.Truncate, 1), fp.Nth(fp.S3CompleteMultipart, noSuchUpload, 1)),
			wantOK: true,
		},
		{
			name: "upload gone, key empty",
			rule: fp.Always(fp.S3CompleteMultipart, noSuchUpload),
		},
		{
			name:    "upload gone, another multipart object of another size at the key",
			rule:    fp.Always(fp.S3CompleteMultipart, noSuchUpload),
			earlier: blobtest.Data(9, 2*MinPartSize+1),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			name := newBucketName(t, srv)
			direct := open(t, serverOptions(srv, name))
			if c.earlier != nil {
				if err := direct.WriteAll(t.Context(), key, c.earlier, nil); err != nil {
					t.Fatal(err)
				}
			}
			p := fp.New(target)
			t.Cleanup(p.Close)
			p.SetRule(c.rule)
			opts := serverOptions(srv, name)
			opts.Endpoint = p.URL.String()
			b := open(t, opts)
			data := blobtest.Data(3, size)
			w, err := b.NewWriter(t.Context(), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			err = w.Close()
			if p.Count() == 0 {
				t.Fatal("no fault was injected")
			}
			if !c.wantOK {
				if err == nil {
					t.Fatal("Close succeeded although the upload never completed")
				}
				if k := blob.KindOf(err); k != blob.KindTransient {
					t.Errorf("Close: kind %v, want transient (err %v)", k, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Close: %v", err)
			}
			r, err := direct.NewReader(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("object after the lost answer: %d bytes (%v), want the %d written", len(got), err, len(data))
			}
		})
	}
}
