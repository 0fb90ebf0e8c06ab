package stores

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/config"
)

// ParseURL turns a bucket URL into the Target to open and the key prefix
// under which its objects live ("" or ending in "/"):
//
//	s3://bucket/prefix?region=R&endpoint=E&usePathStyle=true
//	azure://container/prefix?account=NAME   (or ?serviceUrl=U)
//	gs://bucket/prefix?endpoint=E
//	file:///directory
//
// creds supplies the secrets for the URL's store (an access role's or the
// snapshot storage's block); a missing block means the store's default
// credential chain. Query parameters override the block's endpoint and
// region without changing creds. A URL names an export to read (restore,
// verify), so a file:// directory must exist: it is never created.
func ParseURL(raw string, creds Credentials) (Target, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Target{}, "", fmt.Errorf("bucket URL: %w", err)
	}
	q := u.Query()
	take := func(name string) string { v := q.Get(name); q.Del(name); return v }
	t := Target{Bucket: u.Host}
	prefix := strings.TrimPrefix(u.Path, "/")
	switch u.Scheme {
	case "s3":
		a := copyOf(creds.AWS)
		if v := take("region"); v != "" {
			a.Region = v
		}
		if v := take("endpoint"); v != "" {
			a.Endpoint = v
		}
		if v := take("usePathStyle"); v != "" {
			if a.UsePathStyle, err = strconv.ParseBool(v); err != nil {
				return Target{}, "", fmt.Errorf("bucket URL %s: usePathStyle: %w", raw, err)
			}
		}
		t.AWS = a
	case "azure":
		z := copyOf(creds.Azure)
		if v := take("account"); v != "" {
			z.AccountName = v
		}
		t.ServiceURL = take("serviceUrl")
		if t.ServiceURL == "" && z.Endpoint == "" {
			if z.AccountName == "" {
				return Target{}, "", fmt.Errorf("bucket URL %s: an azure URL needs account=NAME or serviceUrl=URL", raw)
			}
			t.ServiceURL = "https://" + z.AccountName + ".blob.core.windows.net"
		}
		t.Azure = z
	case "gs":
		g := copyOf(creds.GCP)
		if v := take("endpoint"); v != "" {
			g.Endpoint = v
		}
		t.GCP = g
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return Target{}, "", fmt.Errorf("bucket URL %s: a file URL names a local directory (file:///dir)", raw)
		}
		if u.Path == "" {
			return Target{}, "", fmt.Errorf("bucket URL %s: no directory", raw)
		}
		t = Target{Credentials: Credentials{Local: &config.LocalAccess{Directory: u.Path}}, Existing: true}
		prefix = ""
	default:
		return Target{}, "", fmt.Errorf("bucket URL %s: scheme %q is none of s3, azure, gs, file", raw, u.Scheme)
	}
	if len(q) > 0 {
		for name := range q {
			return Target{}, "", fmt.Errorf("bucket URL %s: unknown parameter %q for %s", raw, name, u.Scheme)
		}
	}
	if t.Local == nil && t.Bucket == "" {
		return Target{}, "", fmt.Errorf("bucket URL %s: no bucket name", raw)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	if err := blob.ValidatePrefix(prefix); err != nil {
		return Target{}, "", fmt.Errorf("bucket URL %s: %w", raw, err)
	}
	return t, prefix, nil
}

// copyOf returns a copy of *p (zero when p is nil) that the URL's
// parameters may change without changing the caller's credentials.
func copyOf[T any](p *T) *T {
	var v T
	if p != nil {
		v = *p
	}
	return &v
}

// OpenURL opens the bucket a URL names (see ParseURL) with o's settings
// and returns it with the URL's key prefix.
func (o *Opener) OpenURL(ctx context.Context, raw string, creds Credentials) (blob.Bucket, string, error) {
	t, prefix, err := ParseURL(raw, creds)
	if err != nil {
		return nil, "", err
	}
	b, err := o.Open(ctx, t)
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", raw, err)
	}
	return b, prefix, nil
}
