// Package local is the blob driver for a directory on the local file
// system, for development and tests. Keys map to files under Dir ("a/b/c"
// is Dir/a/b/c). A writer streams into a temporary file under
// Dir/.snapex-tmp, syncs it and renames it over the key on Close, so
// readers never see a partial object. All access goes through an os.Root,
// so neither a key nor a symbolic link inside Dir can reach outside it.
//
// Limits compared with the cloud stores: a key cannot be both an object
// and a prefix of another object's path ("a/b" and "a/b/c"), keys whose
// first segment is .snapex-tmp are reserved, and empty directories left by
// Delete are not removed.
package local

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/snapex/snapex/internal/blob"
)

// Options configures a local bucket.
type Options struct {
	// Dir is the directory holding the objects. It must exist.
	Dir string
}

// tmpDir is the reserved directory, under Dir, holding writes in progress.
const tmpDir = ".snapex-tmp"

// writeBufferSize is the buffer between Write calls and the file.
const writeBufferSize = 256 << 10

// Open returns a Bucket storing objects under opts.Dir.
func Open(opts Options) (blob.Bucket, error) {
	d, err := newDriver(opts)
	if err != nil {
		return nil, err
	}
	return blob.New(d), nil
}

func newDriver(opts Options) (*driver, error) {
	if opts.Dir == "" {
		return nil, &blob.Error{Kind: blob.KindInvalid, Op: "open", Err: errors.New("local: Dir is required")}
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: opts.Dir, Err: fmt.Errorf("local: %w", err)}
	}
	name := "file://" + filepath.ToSlash(dir)
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, &blob.Error{Kind: kindOf(err), Op: "open", Bucket: name, Err: err}
	}
	if !fi.IsDir() {
		return nil, &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: name, Err: fmt.Errorf("local: %s is not a directory", dir)}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, &blob.Error{Kind: kindOf(err), Op: "open", Bucket: name, Err: err}
	}
	return &driver{root: root, name: name}, nil
}

type driver struct {
	root *os.Root
	name string
}

func (d *driver) Name() string { return d.name }

// path maps a validated key to its name under the root, refusing the
// reserved directory.
func (d *driver) path(key string) (string, error) {
	if first, _, _ := strings.Cut(key, "/"); first == tmpDir {
		return "", &blob.Error{Kind: blob.KindInvalid, Err: fmt.Errorf("local: keys under %s/ are reserved", tmpDir)}
	}
	return filepath.FromSlash(key), nil
}

func (d *driver) NewWriter(ctx context.Context, key string, _ blob.WriterOptions) (blob.Writer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dst, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := d.root.MkdirAll(tmpDir, 0o755); err != nil {
		return nil, err
	}
	var f *os.File
	var tmp string
	for range 10 {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(tmpDir, "upload-"+hex.EncodeToString(rnd[:]))
		f, err = d.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &writer{ctx: ctx, root: d.root, f: f, tmp: tmp, bw: bufio.NewWriterSize(f, writeBufferSize), dst: dst}, nil
}

func (d *driver) Put(ctx context.Context, key string, data []byte, opts blob.WriterOptions) error {
	w, err := d.NewWriter(ctx, key, opts)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		_ = w.Abort()
		return err
	}
	return w.Close()
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := d.root.Open(p)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s is not a regular file: %w", p, fs.ErrNotExist)
	}
	return f, nil
}

func (d *driver) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	if err := ctx.Err(); err != nil {
		return blob.ObjectInfo{}, err
	}
	p, err := d.path(key)
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	fi, err := d.root.Stat(p)
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	if !fi.Mode().IsRegular() {
		return blob.ObjectInfo{}, fmt.Errorf("%s is not a regular file: %w", p, fs.ErrNotExist)
	}
	return blob.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// ListPage returns every match in one page: the local driver is for
// development-sized directories.
func (d *driver) ListPage(ctx context.Context, prefix, _ string) ([]blob.ObjectInfo, string, error) {
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
	}
	var out []blob.ObjectInfo
	err := fs.WalkDir(d.root.FS(), start, func(key string, de fs.DirEntry, err error) error {
		if err != nil {
			if key == start && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if de.IsDir() {
			if key == tmpDir {
				return fs.SkipDir
			}
			return nil
		}
		if !de.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := de.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		out = append(out, blob.ObjectInfo{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	// WalkDir orders "a/x" before "a.txt"; the portable order is by key bytes.
	slices.SortFunc(out, func(a, b blob.ObjectInfo) int { return strings.Compare(a.Key, b.Key) })
	return out, "", nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.path(key)
	if err != nil {
		return err
	}
	fi, err := d.root.Lstat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return nil // a directory is no object
	}
	return d.root.Remove(p)
}

func (d *driver) ErrorKind(err error) blob.Kind {
	return kindOf(err)
}

func kindOf(err error) blob.Kind {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return blob.KindNotFound
	case errors.Is(err, fs.ErrPermission), errors.Is(err, syscall.EROFS):
		return blob.KindPermissionDenied
	case errors.Is(err, syscall.EAGAIN), errors.Is(err, syscall.EINTR):
		return blob.KindTransient
	}
	return blob.KindOther
}

func (d *driver) Close() error { return d.root.Close() }

// writer streams into a temporary file and renames it over dst on Close.
type writer struct {
	ctx  context.Context
	root *os.Root
	f    *os.File
	tmp  string
	bw   *bufio.Writer
	dst  string
}

func (w *writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	return w.bw.Write(p)
}

func (w *writer) Close() error {
	err := w.commit()
	if err != nil {
		_ = w.f.Close()
		_ = w.root.Remove(w.tmp)
	}
	return err
}

func (w *writer) commit() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if err := w.bw.Flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	if dir := filepath.Dir(w.dst); dir != "." {
		if err := w.root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	return w.root.Rename(w.tmp, w.dst)
}

func (w *writer) Abort() error {
	cerr := w.f.Close()
	if err := w.root.Remove(w.tmp); err != nil {
		return err
	}
	if cerr != nil && !errors.Is(cerr, os.ErrClosed) {
		return cerr
	}
	return nil
}
