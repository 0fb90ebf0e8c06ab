package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Storage is where snapshot objects live. Keys are "/"-separated relative
// paths ("<snapshot id>/<rs>/<db>/<file>"); every segment is non-empty and
// none is "." or "..". Implementations must be safe for concurrent use.
//
// DirStorage is the local-directory implementation; BlobStorage adapts any
// internal/blob Bucket (S3, Azure, GCS, local).
type Storage interface {
	// Create starts writing the object named key. The object becomes visible
	// (to Open and List) only when Close returns nil; Abort discards it. An
	// existing object with the same key is replaced on successful Close.
	Create(ctx context.Context, key string) (ObjectWriter, error)
	// Open returns a reader of the object named key. A missing object gives
	// an error for which errors.Is(err, fs.ErrNotExist) is true.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// List returns the visible objects whose keys start with prefix (a plain
	// string prefix; "" lists everything), sorted by key.
	List(ctx context.Context, prefix string) ([]ObjectInfo, error)
	// Delete removes the object named key and every object whose key starts
	// with key+"/". Deleting nothing is not an error.
	Delete(ctx context.Context, key string) error
}

// ObjectWriter writes one object of a Storage.
type ObjectWriter interface {
	io.Writer
	// Close commits the object; it is visible only if Close returns nil.
	Close() error
	// Abort discards everything written. It is safe to call after Close or
	// Abort (it then does nothing), so `defer w.Abort()` is the usual pattern.
	Abort() error
}

// ObjectInfo describes a stored object.
type ObjectInfo struct {
	Key  string // full key
	Size int64  // bytes
}

// ValidateKey reports whether key is a well-formed storage key: non-empty,
// relative, "/"-separated, without empty, "." or ".." segments, without
// backslashes or NUL bytes.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("storage key is empty: %w", ErrInvalidName)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("storage key %q contains a backslash or NUL: %w", key, ErrInvalidName)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("storage key %q has an empty, \".\" or \"..\" segment: %w", key, ErrInvalidName)
		}
	}
	return nil
}

// tmpPrefix starts the names of DirStorage's in-progress files. ',' is never
// produced by the escaping in this package, and keys with a segment starting
// with tmpPrefix are refused, so a temporary file is never mistaken for an object.
const tmpPrefix = ",tmp-"

// DirStorage stores objects as files under a local directory, one file per
// key. All file access goes through an os.Root, so neither hostile keys nor
// symbolic links inside the directory can reach files outside it. Objects
// are written to a temporary file in the target directory and renamed into
// place on Close, after an fsync unless NoSync is set.
//
// Reads go through handles on the objects' directories, kept open (at
// most 32) until the next Delete: snapshot objects are written once under
// a snapshot id that is never reused, so a directory is not replaced while
// snapex runs, except by hand; one replaced behind the storage's back is
// read from its old handle until then.
type DirStorage struct {
	root *os.Root
	dir  string

	// NoSync skips the fsync before an object is committed (for tests and
	// throw-away data).
	NoSync bool

	mu sync.Mutex // serialises directory creation and removal of empty directories

	readDirs dirRoots // directories Open reads from
}

// NewDirStorage returns a DirStorage rooted at dir, creating dir if needed.
func NewDirStorage(dir string) (*DirStorage, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("dir storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("dir storage: open %s: %w", dir, err)
	}
	return &DirStorage{root: root, dir: dir}, nil
}

// Dir returns the directory the storage was opened on.
func (s *DirStorage) Dir() string { return s.dir }

// Close releases the directory handles.
func (s *DirStorage) Close() error {
	s.readDirs.forget()
	if err := s.root.Close(); err != nil {
		return fmt.Errorf("dir storage: close %s: %w", s.dir, err)
	}
	return nil
}

func (s *DirStorage) checkKey(key string) error {
	if err := ValidateKey(key); err != nil {
		return fmt.Errorf("dir storage: %w", err)
	}
	for _, seg := range strings.Split(key, "/") {
		if strings.HasPrefix(seg, tmpPrefix) {
			return fmt.Errorf("dir storage: key %q uses the reserved prefix %q: %w", key, tmpPrefix, ErrInvalidName)
		}
	}
	return nil
}

// Create implements Storage.
func (s *DirStorage) Create(ctx context.Context, key string) (ObjectWriter, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.checkKey(key); err != nil {
		return nil, err
	}
	name := filepath.FromSlash(key)
	dir := filepath.Dir(name)
	s.mu.Lock()
	err := s.root.MkdirAll(dir, 0o755)
	var f *os.File
	var tmp string
	if err == nil {
		var rnd [8]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(dir, tmpPrefix+hex.EncodeToString(rnd[:]))
		f, err = s.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	}
	s.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("dir storage: create %s: %w", key, err)
	}
	return &dirObjectWriter{s: s, f: f, tmp: tmp, name: name, key: key}, nil
}

type dirObjectWriter struct {
	s         *DirStorage
	f         *os.File
	tmp, name string
	key       string
	done      bool
}

func (w *dirObjectWriter) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("dir storage: write %s: object already closed", w.key)
	}
	n, err := w.f.Write(p)
	if err != nil {
		return n, fmt.Errorf("dir storage: write %s: %w", w.key, err)
	}
	return n, nil
}

func (w *dirObjectWriter) Close() error {
	if w.done {
		return fmt.Errorf("dir storage: close %s: object already closed", w.key)
	}
	w.done = true
	var err error
	if !w.s.NoSync {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = w.s.root.Rename(w.tmp, w.name)
	}
	if err != nil {
		_ = w.s.root.Remove(w.tmp)
		return fmt.Errorf("dir storage: commit %s: %w", w.key, err)
	}
	return nil
}

func (w *dirObjectWriter) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	_ = w.f.Close()
	if err := w.s.root.Remove(w.tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("dir storage: abort %s: %w", w.key, err)
	}
	return nil
}

// Open implements Storage.
func (s *DirStorage) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := s.checkKey(key); err != nil {
		return nil, err
	}
	f, err := s.openFile(filepath.FromSlash(key))
	if err != nil {
		return nil, fmt.Errorf("dir storage: open %s: %w", key, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("not a regular file: %w", fs.ErrNotExist)
	}
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("dir storage: open %s: %w", key, err)
	}
	return f, nil
}

// openFile opens name for reading through a root on its directory.
func (s *DirStorage) openFile(name string) (*os.File, error) {
	dir, base := filepath.Split(name)
	if dir == "" {
		return s.root.Open(name)
	}
	r, err := s.readDirs.get(s.root, filepath.Clean(dir))
	if err != nil {
		return nil, err
	}
	f, err := r.Open(base)
	switch {
	case err != nil && errors.Is(err, fs.ErrNotExist):
		// Missing, or the cached directory was removed and made again:
		// the full path tells, and a stale cache is dropped.
		f, err = s.root.Open(name)
		if err == nil {
			s.readDirs.forget()
		}
		return f, err
	case err != nil && errors.Is(err, os.ErrClosed):
		// Evicted (closed) by another reader in the meantime.
		return s.root.Open(name)
	}
	return f, err
}

// List implements Storage.
func (s *DirStorage) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	if strings.ContainsAny(prefix, "\\\x00") || strings.HasPrefix(prefix, "/") {
		return nil, fmt.Errorf("dir storage: list prefix %q: %w", prefix, ErrInvalidName)
	}
	// Walk from the deepest directory the prefix fully names.
	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i > 0 {
		start = prefix[:i]
		if err := ValidateKey(start); err != nil {
			return nil, fmt.Errorf("dir storage: list prefix %q: %w", prefix, err)
		}
	}
	var out []ObjectInfo
	err := fs.WalkDir(s.root.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		if d.IsDir() {
			// Prune directories that cannot contain matching keys.
			if p != "." && !strings.HasPrefix(p+"/", prefix) && !strings.HasPrefix(prefix, p+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(p, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while listing
			}
			return err
		}
		out = append(out, ObjectInfo{Key: p, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dir storage: list %q: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements Storage. Directories left empty are removed too.
func (s *DirStorage) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.checkKey(key); err != nil {
		return err
	}
	name := filepath.FromSlash(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.readDirs.forget()
	if err := s.root.RemoveAll(name); err != nil {
		return fmt.Errorf("dir storage: delete %s: %w", key, err)
	}
	// Remove parents that became empty; stop at the first non-empty one.
	for dir := path.Dir(key); dir != "."; dir = path.Dir(dir) {
		if err := s.root.Remove(filepath.FromSlash(dir)); err != nil {
			break
		}
	}
	return nil
}
