package snapshot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/snapex/snapex/internal/blob"
)

// BlobStorage stores snapshots in a blob.Bucket (S3, Azure, GCS or a local
// directory through internal/blob), under an optional key prefix.
type BlobStorage struct {
	b      blob.Bucket
	prefix string
}

// NewBlobStorage returns a Storage keeping its objects in b under prefix
// ("" or a "/"-terminated prefix such as "snapshots/"). The caller keeps
// ownership of b.
func NewBlobStorage(b blob.Bucket, prefix string) (*BlobStorage, error) {
	if prefix != "" {
		if !strings.HasSuffix(prefix, "/") {
			return nil, fmt.Errorf("blob storage: prefix %q must end with /: %w", prefix, ErrInvalidName)
		}
		if err := ValidateKey(strings.TrimSuffix(prefix, "/")); err != nil {
			return nil, fmt.Errorf("blob storage: prefix: %w", err)
		}
	}
	return &BlobStorage{b: b, prefix: prefix}, nil
}

// notExist makes a blob not-found error match fs.ErrNotExist as well.
func notExist(err error) error {
	if errors.Is(err, blob.ErrNotFound) && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (%w)", err, fs.ErrNotExist)
	}
	return err
}

// Create implements Storage.
func (s *BlobStorage) Create(ctx context.Context, key string) (ObjectWriter, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	w, err := s.b.NewWriter(ctx, s.prefix+key, nil)
	if err != nil {
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	return &blobObjectWriter{w: w}, nil
}

// blobObjectWriter gives blob.Writer the ObjectWriter rule that Abort after
// Close does nothing.
type blobObjectWriter struct {
	w    blob.Writer
	done bool
}

func (w *blobObjectWriter) Write(p []byte) (int, error) { return w.w.Write(p) }

func (w *blobObjectWriter) Close() error {
	w.done = true
	return w.w.Close()
}

func (w *blobObjectWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	return w.w.Abort()
}

// Open implements Storage.
func (s *BlobStorage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ValidateKey(key); err != nil {
		return nil, fmt.Errorf("blob storage: %w", err)
	}
	r, err := s.b.NewReader(ctx, s.prefix+key)
	if err != nil {
		return nil, fmt.Errorf("blob storage: %w", notExist(err))
	}
	return r, nil
}

// List implements Storage.
func (s *BlobStorage) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	for o, err := range s.b.List(ctx, s.prefix+prefix) {
		if err != nil {
			return nil, fmt.Errorf("blob storage: %w", err)
		}
		out = append(out, ObjectInfo{Key: strings.TrimPrefix(o.Key, s.prefix), Size: o.Size})
	}
	return out, nil
}

// Delete implements Storage: the object key and everything under key+"/".
func (s *BlobStorage) Delete(ctx context.Context, key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("blob storage: %w", err)
	}
	objs, err := s.List(ctx, key+"/")
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := s.b.Delete(ctx, s.prefix+o.Key); err != nil {
			return fmt.Errorf("blob storage: %w", err)
		}
	}
	if err := s.b.Delete(ctx, s.prefix+key); err != nil {
		return fmt.Errorf("blob storage: %w", err)
	}
	return nil
}
