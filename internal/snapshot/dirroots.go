package snapshot

import (
	"os"
	"sync"
)

// maxDirRoots bounds how many directory handles DirStorage keeps open for
// reading.
const maxDirRoots = 32

// dirRoots caches os.Roots opened on the directories DirStorage reads
// from. An export opens two files per collection, and os.Root resolves a
// multi-segment name one openat per segment; reading through a root on
// the file's own directory takes one openat for the name. A sub-root is
// confined to its directory, so confinement only tightens.
type dirRoots struct {
	mu    sync.Mutex
	roots map[string]*os.Root
}

// get returns the root for dir (a cleaned native path under root),
// opening it through root when not cached.
func (c *dirRoots) get(root *os.Root, dir string) (*os.Root, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.roots[dir]; ok {
		return r, nil
	}
	r, err := root.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	if c.roots == nil || len(c.roots) >= maxDirRoots {
		c.closeLocked()
		c.roots = map[string]*os.Root{}
	}
	c.roots[dir] = r
	return r, nil
}

// forget closes every cached root: after a delete, a cached directory may
// be gone and a new one created under its name.
func (c *dirRoots) forget() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closeLocked()
}

func (c *dirRoots) closeLocked() {
	for _, r := range c.roots {
		_ = r.Close() // read-only handles: nothing to flush
	}
	c.roots = nil
}
