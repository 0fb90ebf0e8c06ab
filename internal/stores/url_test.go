package stores

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
)

func TestParseURL(t *testing.T) {
	aws := &config.AWSAccess{Region: "eu-west-1", Endpoint: "http://minio:9000"}
	azure := &config.AzureAccess{AccountName: "acct"}
	creds := Credentials{AWS: aws, Azure: azure}
	for _, c := range []struct {
		raw                   string
		bucket, prefix        string
		region, endpoint, svc string
		pathStyle             bool
		dir                   string
	}{
		{raw: "s3://exports/a/b", bucket: "exports", prefix: "a/b/", region: "eu-west-1", endpoint: "http://minio:9000"},
		{raw: "s3://exports/a/?region=us-east-2&endpoint=http://127.0.0.1:1&usePathStyle=true", bucket: "exports", prefix: "a/",
			region: "us-east-2", endpoint: "http://127.0.0.1:1", pathStyle: true},
		{raw: "s3://exports", bucket: "exports", region: "eu-west-1", endpoint: "http://minio:9000"},
		{raw: "azure://cont/x", bucket: "cont", prefix: "x/", svc: "https://acct.blob.core.windows.net"},
		{raw: "azure://cont?serviceUrl=http://127.0.0.1:10000/devstoreaccount1", bucket: "cont", svc: "http://127.0.0.1:10000/devstoreaccount1"},
		{raw: "gs://b/p/q/?endpoint=http://127.0.0.1:4443", bucket: "b", prefix: "p/q/", endpoint: "http://127.0.0.1:4443"},
		{raw: "file:///var/snapex/exports", dir: "/var/snapex/exports"},
	} {
		t.Run(c.raw, func(t *testing.T) {
			tg, prefix, err := ParseURL(c.raw, creds)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Bucket != c.bucket || prefix != c.prefix {
				t.Fatalf("bucket %q prefix %q, want %q %q", tg.Bucket, prefix, c.bucket, c.prefix)
			}
			switch {
			case tg.AWS != nil:
				if tg.AWS.Region != c.region || tg.AWS.Endpoint != c.endpoint || tg.AWS.UsePathStyle != c.pathStyle {
					t.Fatalf("aws %+v", *tg.AWS)
				}
			case tg.Azure != nil:
				if tg.ServiceURL != c.svc {
					t.Fatalf("service URL %q, want %q", tg.ServiceURL, c.svc)
				}
			case tg.GCP != nil:
				if tg.GCP.Endpoint != c.endpoint {
					t.Fatalf("gcs endpoint %q", tg.GCP.Endpoint)
				}
			case tg.Local != nil:
				if tg.Local.Directory != c.dir {
					t.Fatalf("directory %q, want %q", tg.Local.Directory, c.dir)
				}
			default:
				t.Fatalf("no credentials in %+v", tg)
			}
		})
	}
	if aws.Region != "eu-west-1" || aws.Endpoint != "http://minio:9000" || aws.UsePathStyle {
		t.Fatalf("ParseURL changed the credentials it was given: %+v", *aws)
	}
}

func TestParseURLRefusesBadURLs(t *testing.T) {
	for raw, want := range map[string]string{
		"ftp://x/y":              "scheme",
		"s3:///prefix":           "no bucket name",
		"s3://b/p?color=blue":    "unknown parameter",
		"s3://b/a//c":            "empty path segment",
		"s3://b/?usePathStyle=x": "usePathStyle",
		"azure://cont/p":         "account=NAME",
		"file://host/dir":        "local directory",
		"::":                     "missing protocol scheme",
	} {
		if _, _, err := ParseURL(raw, Credentials{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseURL(%q) = %v, want an error mentioning %q", raw, err, want)
		}
	}
}

// A file:// URL opens the directory as a bucket: what one opener writes,
// another reads back.
func TestOpenURLFile(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "bucket")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	o := &Opener{}
	b, prefix, err := o.OpenURL(ctx, "file://"+dir, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	if prefix != "" {
		t.Fatalf("prefix %q", prefix)
	}
	if err := b.WriteAll(ctx, "a/b.txt", []byte("hello"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	_ = b.Close()
	b2, _, err := o.OpenURL(ctx, "file://"+dir, Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	r, err := b2.NewReader(ctx, "a/b.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if got, err := io.ReadAll(r); err != nil || string(got) != "hello" {
		t.Fatalf("read back %q, %v", got, err)
	}
}

// A file:// URL names an export to read: a directory that does not exist
// is reported as not found and is not created (a mistyped path given to
// verify or restore must not leave directories behind).
func TestOpenURLFileDoesNotCreate(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no", "such", "export")
	_, _, err := (&Opener{}).OpenURL(context.Background(), "file://"+missing, Credentials{})
	if blob.KindOf(err) != blob.KindNotFound || !strings.Contains(err.Error(), missing) {
		t.Fatalf("OpenURL of a missing directory: %v; want not found, naming %s", err, missing)
	}
	if _, err := os.Stat(filepath.Dir(filepath.Dir(missing))); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("opening a missing directory created its parents: %v", err)
	}
}
