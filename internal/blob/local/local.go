// Package local is the blob driver for a directory on the local file
// system, for development and tests. Keys map to files under Dir
// ("a/b/c" is Dir/a/b/c).
//
// A write goes to a temporary file under the reserved directory
// Dir/.snapex-tmp and is renamed over its key on Close (or at the end of
// WriteAll), so readers never see a partial object and temporary files
// never appear next to objects. By default the temporary file is synced
// (fsync) before the rename, so a crash leaves under a key either the
// previous object or the whole new one. With [Options.DeferSync] the
// per-object fsync is skipped and Bucket.Sync makes every acknowledged
// write durable in one system call; see DeferSync for what a crash may
// leave behind before that.
//
// Neither a key nor a symbolic link inside Dir can reach outside Dir.
// Reads, Stat, List and Delete go through an os.Root. Writes keep the
// directories they write into open in a small cache and reach each
// directory one component at a time from its parent without following
// symbolic links, falling back to the os.Root (which follows links that
// stay inside Dir and refuses the others) for a component that is a
// link. The cache means that a directory inside Dir must not be moved by
// another process while the bucket is open: a cached directory that was
// removed (or replaced) is noticed and reopened, but one that was renamed
// keeps receiving the writes under its new name until it is evicted.
//
// Reads open the object through the cached handle of its directory too
// (without creating directories), and Delete removes the directories it
// leaves empty.
//
// Limits compared with the cloud stores: a key cannot be both an object
// and a prefix of another object's path ("a/b" and "a/b/c"), and keys
// whose first segment is .snapex-tmp are reserved. The driver uses Linux system calls (syncfs).
package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/snapex/snapex/internal/blob"
)

// Options configures a local bucket.
type Options struct {
	// Dir is the directory holding the objects. It must exist.
	Dir string

	// DeferSync, when true, skips the fsync of each object before it is
	// renamed into place: Writer.Close and WriteAll return once the
	// object is visible, and Bucket.Sync (one syncfs of Dir's file
	// system) makes every object acknowledged before it durable. This
	// makes many small writes much cheaper; a caller that records
	// progress about written objects must call Sync before recording
	// it. After a crash, an object written since the last successful
	// Sync may be missing, or present but empty or truncated (file
	// systems may persist the rename before the data), so it must be
	// written again.
	//
	// When false (the default), every object is synced before it is
	// renamed into place; Sync then still makes the renames themselves
	// durable, which the per-object fsync does not.
	DeferSync bool
}

// tmpDir is the reserved directory, under Dir, holding writes in progress.
const tmpDir = ".snapex-tmp"

// tmpShards is the number of subdirectories of tmpDir the temporary files
// are spread over. A file system creates a file under an exclusive lock
// of its directory, and creating an inode is the costliest step of a
// small write (~200 µs on ext4); with a single temporary directory,
// concurrent writers queue on its lock.
const tmpShards = 8

// tmpShardDirs are the paths of the shards under the root.
var tmpShardDirs = func() (dirs [tmpShards]string) {
	for i := range dirs {
		dirs[i] = tmpDir + "/" + strconv.Itoa(i)
	}
	return dirs
}()

// writeBufferSize is the buffer between small Write calls of a streaming
// writer and the file. Buffers are pooled and taken on the first Write
// smaller than the buffer; WriteAll uses none.
const writeBufferSize = 256 << 10

var bufPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}

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
	// The write path's descriptor of the root is the os.Root's own
	// directory, not a second lookup of dir that could find another one.
	rootFd, err := openRootFd(root)
	if err != nil {
		_ = root.Close()
		return nil, &blob.Error{Kind: kindOf(err), Op: "open", Bucket: name, Err: err}
	}
	return &driver{root: root, name: name, deferSync: opts.DeferSync, dirs: newDirCache(root, rootFd), fsync: unix.Fsync}, nil
}

func openRootFd(root *os.Root) (int, error) {
	f, err := root.Open(".")
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return dupFd(f)
}

type driver struct {
	root      *os.Root // reads, Stat, List, Delete
	name      string
	deferSync bool
	dirs      *dirCache          // writes
	fsync     func(fd int) error // unix.Fsync; tests count the calls
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
	if _, err := d.path(key); err != nil {
		return nil, err
	}
	t, err := d.createTemp()
	if err != nil {
		return nil, err
	}
	return &writer{ctx: ctx, d: d, t: t, key: key}, nil
}

// Put writes data straight to the temporary file: no buffer, no writer.
func (d *driver) Put(ctx context.Context, key string, data []byte, _ blob.WriterOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if _, err := d.path(key); err != nil {
		return err
	}
	t, err := d.createTemp()
	if err != nil {
		return err
	}
	if _, err := t.Write(data); err != nil {
		d.discard(t)
		return err
	}
	return d.commit(ctx, t, key)
}

// tempFile is a write in progress: a file in the temporary directory.
type tempFile struct {
	fd   int // -1 once closed
	name string
	dir  *dirHandle // the temporary directory, referenced until done
}

// path is the file's path under the root, for messages.
func (t *tempFile) path() string { return t.dir.path + "/" + t.name }

// Write writes all of p to the file.
func (t *tempFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(t.fd, p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &fs.PathError{Op: "write", Path: t.path(), Err: err}
		}
		n += m
	}
	return n, nil
}

func (t *tempFile) close() error {
	fd := t.fd
	t.fd = -1
	if err := unix.Close(fd); err != nil {
		return &fs.PathError{Op: "close", Path: t.path(), Err: err}
	}
	return nil
}

// maxTempAttempts bounds how often createTemp recreates a temporary
// directory that other buckets' Close keeps removing under it.
const maxTempAttempts = 16

// createTemp creates a new empty file in the temporary directory.
func (d *driver) createTemp() (*tempFile, error) {
	for attempt := 1; ; attempt++ {
		t, err := d.tryCreateTemp()
		if err != nil && attempt < maxTempAttempts && errors.Is(err, fs.ErrNotExist) {
			// The temporary directory (or a cached handle of it) was
			// removed by another bucket on the same Dir closing while this
			// one writes; each retry recreates it, and only a Close landing
			// in the few microseconds between recreating and creating the
			// file sends it round again.
			d.dirs.purge()
			continue
		}
		return t, err
	}
}

func (d *driver) tryCreateTemp() (*tempFile, error) {
	dir, err := d.dirs.acquire(tmpShardDirs[rand.IntN(tmpShards)])
	if err != nil {
		return nil, err
	}
	for range 10 {
		// The names need no secrecy, only uniqueness, which O_EXCL
		// enforces; a collision just picks another.
		name := "upload-" + strconv.FormatUint(rand.Uint64(), 16)
		var fd int
		err = ignoringEINTR(func() (err error) {
			fd, err = unix.Openat(dir.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
			return err
		})
		if err == nil {
			return &tempFile{fd: fd, name: name, dir: dir}, nil
		}
		exists := err == unix.EEXIST
		err = &fs.PathError{Op: "openat", Path: dir.path + "/" + name, Err: err}
		if !exists {
			break
		}
	}
	d.dirs.release(dir)
	return nil, err
}

// commit syncs (unless DeferSync), closes and renames t over key. On
// error it removes t. Either way t is done.
func (d *driver) commit(ctx context.Context, t *tempFile, key string) error {
	err := ctx.Err()
	if err == nil && !d.deferSync {
		if serr := ignoringEINTR(func() error { return d.fsync(t.fd) }); serr != nil {
			err = &fs.PathError{Op: "fsync", Path: t.path(), Err: serr}
		}
	}
	if err == nil {
		err = t.close()
	}
	if err == nil {
		err = d.rename(t, key)
	}
	if err != nil {
		d.discard(t)
		return err
	}
	d.dirs.release(t.dir)
	t.dir = nil
	return nil
}

// rename moves the closed t over key, creating key's directories.
func (d *driver) rename(t *tempFile, key string) error {
	dir, base := "", key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		dir, base = key[:i], key[i+1:]
	}
	for attempt := 0; ; attempt++ {
		h, err := d.dirs.acquire(dir)
		if err == nil {
			err = ignoringEINTR(func() error { return unix.Renameat(t.dir.fd, t.name, h.fd, base) })
			d.dirs.release(h)
			if err != nil {
				err = &os.LinkError{Op: "renameat", Old: t.path(), New: key, Err: err}
			}
		}
		if err != nil && attempt == 0 && errors.Is(err, fs.ErrNotExist) {
			// A cached directory on the way may have been removed.
			d.dirs.purge()
			continue
		}
		return err
	}
}

// discard closes and removes t and releases its directory. It may be
// called after commit failed half-way.
func (d *driver) discard(t *tempFile) error {
	if t.dir == nil {
		return nil // already done
	}
	var err error
	if t.fd >= 0 {
		err = t.close()
	}
	if rerr := ignoringEINTR(func() error { return unix.Unlinkat(t.dir.fd, t.name, 0) }); rerr != nil && rerr != unix.ENOENT {
		err = &fs.PathError{Op: "unlinkat", Path: t.path(), Err: rerr}
	}
	d.dirs.release(t.dir)
	t.dir = nil
	return err
}

// Sync makes every acknowledged write durable with syncfs on Dir's file
// system (and on that of .snapex-tmp, should it be another one: objects
// are renamed from there, so they live on its file system). Kernels
// before Linux 5.8 do not report write-back errors from syncfs.
func (d *driver) Sync(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	root, err := d.dirs.acquire("")
	if err != nil {
		return err
	}
	defer d.dirs.release(root)
	if err := ignoringEINTR(func() error { return unix.Syncfs(root.fd) }); err != nil {
		return &fs.PathError{Op: "syncfs", Path: ".", Err: err}
	}
	var fd int
	err = ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(root.fd, tmpDir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	if err != nil {
		return nil // no temporary directory, so nothing was written through another one
	}
	defer unix.Close(fd)
	var rst, tst unix.Stat_t
	if unix.Fstat(root.fd, &rst) != nil || unix.Fstat(fd, &tst) != nil || rst.Dev != tst.Dev {
		if err := ignoringEINTR(func() error { return unix.Syncfs(fd) }); err != nil {
			return &fs.PathError{Op: "syncfs", Path: tmpDir, Err: err}
		}
	}
	return nil
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := d.openFile(key, p)
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

// openFile opens key (native path p under the root) for reading through
// the cached handle of its directory, so that a read costs one openat
// whatever the key's depth. A final component that is a symbolic link is
// resolved by the os.Root, as writes do.
func (d *driver) openFile(key, p string) (*os.File, error) {
	dir, base := "", key
	if i := strings.LastIndexByte(key, '/'); i >= 0 {
		dir, base = key[:i], key[i+1:]
	}
	h, err := d.dirs.lookup(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return d.reopen(p)
		}
		return nil, err
	}
	var fd int
	err = ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(h.fd, base, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	d.dirs.release(h)
	switch err {
	case nil:
		return os.NewFile(uintptr(fd), p), nil
	case unix.ENOENT:
		return d.reopen(p)
	case unix.ELOOP:
		return d.root.Open(p)
	}
	return nil, &fs.PathError{Op: "openat", Path: key, Err: err}
}

// reopen opens p through the os.Root after the cached path said it was
// missing: a cached directory may have been removed and made again, in
// which case the cache is stale and is dropped.
func (d *driver) reopen(p string) (*os.File, error) {
	f, err := d.root.Open(p)
	if err == nil {
		d.dirs.purge()
	}
	return f, err
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
	if err := d.root.Remove(p); err != nil {
		return err
	}
	d.removeEmptyParents(key)
	return nil
}

// removeEmptyParents removes the directories of key left empty, deepest
// first, as a cloud store has no directories to leave behind; it stops at
// the first one that is not empty. A write racing into a directory removed
// here finds its cached handle dead and makes the directory again.
func (d *driver) removeEmptyParents(key string) {
	for dir := path.Dir(key); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if err := d.root.Remove(filepath.FromSlash(dir)); err != nil {
			return
		}
	}
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
	case errors.Is(err, errCacheClosed):
		return blob.KindInvalid
	}
	return blob.KindOther
}

// Close closes the cached directories and the root.
func (d *driver) Close() error {
	err := d.dirs.close()
	d.removeEmptyTemp()
	if rerr := d.root.Close(); err == nil {
		err = rerr
	}
	return err
}

// removeEmptyTemp removes the temporary directory and its shards when they
// are empty, so a bucket holds only objects once its writers are done.
// Removal fails harmlessly for a directory another bucket on the same Dir
// is still writing into, and a writer whose cached directory was removed
// recreates it (createTemp).
func (d *driver) removeEmptyTemp() {
	for _, shard := range tmpShardDirs {
		_ = d.root.Remove(shard)
	}
	_ = d.root.Remove(tmpDir)
}

// writer streams into a temporary file and renames it over key on Close.
type writer struct {
	ctx context.Context
	d   *driver
	t   *tempFile
	key string
	bw  *bufio.Writer // pooled, taken by the first small Write
}

var errWriterDone = errors.New("local: writer already closed or aborted")

func (w *writer) Write(p []byte) (int, error) {
	if err := w.ctx.Err(); err != nil {
		return 0, err
	}
	if w.t.dir == nil {
		return 0, errWriterDone
	}
	if w.bw == nil {
		if len(p) >= writeBufferSize {
			return w.t.Write(p)
		}
		w.bw = bufPool.Get().(*bufio.Writer)
		w.bw.Reset(w.t)
	}
	return w.bw.Write(p)
}

// putBuf returns the buffer to the pool.
func (w *writer) putBuf() {
	if w.bw != nil {
		w.bw.Reset(nil)
		bufPool.Put(w.bw)
		w.bw = nil
	}
}

func (w *writer) Close() error {
	if w.t.dir == nil {
		return errWriterDone
	}
	var err error
	if w.bw != nil {
		if err = w.ctx.Err(); err == nil {
			err = w.bw.Flush()
		}
		w.putBuf()
	}
	if err != nil {
		w.d.discard(w.t)
		return err
	}
	return w.d.commit(w.ctx, w.t, w.key)
}

func (w *writer) Abort() error {
	w.putBuf()
	return w.d.discard(w.t)
}
