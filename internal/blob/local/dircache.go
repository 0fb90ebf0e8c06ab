package local

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// The write path works on raw directory file descriptors instead of the
// os.Root that reads use: os.Root resolves every component of a path on
// each call (an openat per component, plus a mkdirat per component for
// MkdirAll), which came to ~25 syscalls per small object at keys 9
// segments deep and dominated the CPU profile of exports of many tiny
// collections. dirCache keeps the directories being written into open, so
// a write costs one openat for the temporary file and one renameat
// (BenchmarkPutDeepKeys measures it; its figures are in docs/design.md).
//
// Confinement is kept by construction: a directory is only ever reached
// from its cached parent one component at a time, with mkdirat (which
// never follows a symbolic link) and openat with O_NOFOLLOW|O_DIRECTORY;
// the temporary file is created and renamed with single-component names
// relative to directory descriptors, and a rename replaces a symbolic
// link at the destination rather than following it. The rare component
// that is a symbolic link is resolved by os.Root, which follows links that
// stay inside Dir and refuses the others.
//
// NewReader uses the same cache (through lookup, which never creates a
// directory): an export reads two snapshot objects per collection, and
// through the os.Root each open cost one openat per key segment.

// maxIdleDirs bounds the directory handles kept open while no write or
// read uses them. Handles in use are never closed, so the descriptors open
// at once are at most the directories being used plus maxIdleDirs.
const maxIdleDirs = 64

// dirHandle is an open directory under the root, shared by the writes
// into it.
type dirHandle struct {
	fd   int
	path string // slash-separated, relative to the root; "" is the root

	refs    int  // writes using fd (+1 for the root); guarded by dirCache.mu
	dropped bool // removed from the cache: close fd on the last release
	pinned  bool // the root: never idle, dropped only by dirCache.close

	// Links in the idle list while refs == 0.
	prev, next *dirHandle
}

// dirCache is a concurrency-safe cache of open directory handles keyed by
// their path under the root. Handles are reference counted, so a handle
// is never closed while a write uses it, and at most maxIdleDirs unused
// handles stay open, least recently used evicted first.
type dirCache struct {
	root *os.Root // resolves components that are symbolic links

	mu     sync.Mutex
	m      map[string]*dirHandle
	idle   dirHandle // sentinel of the idle list; idle.next is the most recent
	nidle  int
	closed bool
}

func newDirCache(root *os.Root, rootFd int) *dirCache {
	c := &dirCache{root: root, m: make(map[string]*dirHandle)}
	c.idle.prev, c.idle.next = &c.idle, &c.idle
	c.m[""] = &dirHandle{fd: rootFd, pinned: true, refs: 1}
	return c
}

// errCacheClosed is returned by acquire after close.
var errCacheClosed = errors.New("local: bucket is closed")

// acquire returns the handle of the directory dir (slash-separated,
// relative to the root, "" for the root), creating the directory and any
// missing parents. The caller must release it.
func (c *dirCache) acquire(dir string) (*dirHandle, error) { return c.get(dir, true) }

// lookup is acquire for readers: a missing directory is not created, it
// gives an error matching fs.ErrNotExist.
func (c *dirCache) lookup(dir string) (*dirHandle, error) { return c.get(dir, false) }

func (c *dirCache) get(dir string, create bool) (*dirHandle, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errCacheClosed
	}
	if h, ok := c.m[dir]; ok {
		c.refLocked(h)
		c.mu.Unlock()
		return h, nil
	}
	// Start from the deepest ancestor in the cache; the root always is.
	anc := dir
	var h *dirHandle
	for h == nil {
		if i := strings.LastIndexByte(anc, '/'); i >= 0 {
			anc = anc[:i]
		} else {
			anc = ""
		}
		h = c.m[anc]
	}
	c.refLocked(h)
	c.mu.Unlock()

	rest := dir[len(anc):]
	if anc != "" {
		rest = rest[1:] // the '/' after anc
	}
	for rest != "" {
		name := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			name, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		path := name
		if h.path != "" {
			path = h.path + "/" + name
		}
		fd, err := c.openChild(h, name, path, create)
		if err != nil {
			c.release(h)
			return nil, err
		}
		child := c.insert(path, fd)
		c.release(h)
		if child == nil {
			return nil, errCacheClosed
		}
		h = child
	}
	return h, nil
}

// openChild opens, creating it if needed and create is set, the directory
// name under parent; path is its path under the root, for messages and the
// symbolic-link fallback. An existing directory is opened without trying
// to create it: mkdirat takes the parent's lock exclusively even when the
// name exists, and an export comes back to every collection's directory
// for its metadata.json, thousands of times in one parent.
func (c *dirCache) openChild(parent *dirHandle, name, path string, create bool) (int, error) {
	fd, err := openDirAt(parent, name)
	var mkErr error // why it could not be created, when that was tried
	if err == unix.ENOENT && create {
		if mkErr = ignoringEINTR(func() error { return unix.Mkdirat(parent.fd, name, 0o755) }); mkErr == unix.EEXIST {
			mkErr = nil
		}
		fd, err = openDirAt(parent, name)
	}
	switch {
	case err == nil:
		return fd, nil
	case mkErr != nil:
		// Could neither create nor open it: the reason it could not be
		// created is the one to report (e.g. permission denied).
		return -1, &fs.PathError{Op: "mkdirat", Path: path, Err: mkErr}
	case err == unix.ENOTDIR && path != tmpDir && !strings.HasPrefix(path, tmpDir+"/"):
		// A symbolic link or a file. os.Root follows a link that stays
		// inside the root and refuses one that leaves it or a file.
		return c.openViaRoot(path)
	}
	return -1, &fs.PathError{Op: "openat", Path: path, Err: err}
}

// openDirAt opens the directory name under parent, not following a
// symbolic link.
func openDirAt(parent *dirHandle, name string) (int, error) {
	var fd int
	err := ignoringEINTR(func() (err error) {
		fd, err = unix.Openat(parent.fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		return err
	})
	return fd, err
}

// openViaRoot opens the directory path through the os.Root and returns a
// duplicate of its descriptor.
func (c *dirCache) openViaRoot(path string) (int, error) {
	f, err := c.root.OpenFile(path, os.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	return dupFd(f)
}

// dupFd returns a close-on-exec duplicate of f's descriptor.
func dupFd(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var dupErr error
	if err := rc.Control(func(fd uintptr) {
		nfd, dupErr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, &fs.PathError{Op: "dup", Path: f.Name(), Err: dupErr}
	}
	return nfd, nil
}

// insert adds the just opened directory path with one reference and
// returns its handle. If another goroutine cached path meanwhile, fd is
// closed and that handle is returned instead. After close it closes fd
// and returns nil.
func (c *dirCache) insert(path string, fd int) *dirHandle {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		_ = unix.Close(fd)
		return nil
	}
	if h, ok := c.m[path]; ok {
		c.refLocked(h)
		c.mu.Unlock()
		_ = unix.Close(fd)
		return h
	}
	h := &dirHandle{fd: fd, path: path, refs: 1}
	c.m[path] = h
	c.mu.Unlock()
	return h
}

// refLocked takes a reference on h, taking it off the idle list.
func (c *dirCache) refLocked(h *dirHandle) {
	if h.refs == 0 && h.next != nil {
		h.prev.next, h.next.prev = h.next, h.prev
		h.prev, h.next = nil, nil
		c.nidle--
	}
	h.refs++
}

// release drops a reference taken by acquire. The last release of a
// handle makes it idle, evicting the least recently used idle handle
// beyond maxIdleDirs, or closes it if it was dropped from the cache.
func (c *dirCache) release(h *dirHandle) {
	var toClose []int
	c.mu.Lock()
	h.refs--
	if h.refs == 0 {
		if h.dropped {
			toClose = append(toClose, h.fd)
		} else if !h.pinned {
			h.prev, h.next = &c.idle, c.idle.next
			h.prev.next, h.next.prev = h, h
			c.nidle++
			for c.nidle > maxIdleDirs {
				old := c.idle.prev
				old.prev.next, old.next.prev = old.next, old.prev
				old.prev, old.next = nil, nil
				c.nidle--
				delete(c.m, old.path)
				toClose = append(toClose, old.fd)
			}
		}
	}
	c.mu.Unlock()
	for _, fd := range toClose {
		_ = unix.Close(fd)
	}
}

// purge forgets every cached directory but the root, so that the next
// acquire opens them afresh: called when a cached handle may name a
// directory that was removed behind the bucket's back. Handles in use are
// closed on their last release.
func (c *dirCache) purge() {
	var toClose []int
	c.mu.Lock()
	for path, h := range c.m {
		if h.pinned {
			continue
		}
		delete(c.m, path)
		if h.refs == 0 {
			h.prev.next, h.next.prev = h.next, h.prev
			h.prev, h.next = nil, nil
			c.nidle--
			toClose = append(toClose, h.fd)
		} else {
			h.dropped = true
		}
	}
	c.mu.Unlock()
	for _, fd := range toClose {
		_ = unix.Close(fd)
	}
}

// close closes the root and every idle handle and makes acquire fail.
// Handles still in use (the root included) are closed on their last
// release.
func (c *dirCache) close() error {
	var toClose []int
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	for path, h := range c.m {
		delete(c.m, path)
		if h.pinned {
			h.refs-- // the cache's own reference
		}
		if h.refs == 0 {
			toClose = append(toClose, h.fd)
		} else {
			h.dropped = true
		}
	}
	c.idle.prev, c.idle.next = &c.idle, &c.idle
	c.nidle = 0
	c.mu.Unlock()
	var err error
	for _, fd := range toClose {
		if cerr := unix.Close(fd); cerr != nil && err == nil {
			err = &fs.PathError{Op: "close", Path: "directory handle", Err: cerr}
		}
	}
	return err
}

// stats returns the number of cached handles and of idle ones, for tests.
func (c *dirCache) stats() (cached, idle int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m), c.nidle
}

// ignoringEINTR calls fn until it fails with something other than EINTR,
// as the os package does for its system calls.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}
