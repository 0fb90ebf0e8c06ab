package restore

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/local"
)

// OpenSource opens the bucket an export lives in from a URL
// (s3://bucket/prefix, azure://…, gs://…, file:///dir, or a plain path)
// and returns it with the export's prefix inside it. The command receives
// one, so that every store snapex can open is a restore source.
type OpenSource func(ctx context.Context, url string) (b blob.Bucket, prefix string, err error)

// OpenLocal opens a file:// URL or a plain path naming an export's
// directory (the one holding .complete) as a local bucket with an empty
// prefix; other schemes are refused.
func OpenLocal(_ context.Context, src string) (blob.Bucket, string, error) {
	dir := src
	if strings.Contains(src, "://") {
		u, err := url.Parse(src)
		if err != nil {
			return nil, "", fmt.Errorf("source %q: %w", src, err)
		}
		if u.Scheme != "file" {
			return nil, "", fmt.Errorf("source %q: only local directories (file:// or a path) can be opened here", src)
		}
		if u.Host != "" && u.Host != "localhost" {
			return nil, "", fmt.Errorf("source %q: a file URL names no host (file:///dir)", src)
		}
		dir = u.Path
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", fmt.Errorf("source %q: %w", src, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, "", fmt.Errorf("source %q: %w", src, err)
	}
	if !fi.IsDir() {
		return nil, "", fmt.Errorf("source %q is not a directory", src)
	}
	b, err := local.Open(local.Options{Dir: dir})
	if err != nil {
		return nil, "", fmt.Errorf("open %s: %w", dir, err)
	}
	return b, "", nil
}
