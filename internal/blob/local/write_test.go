package local

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
)

// openDriver opens dir and counts the driver's fsync calls in *fsyncs.
func openDriver(t *testing.T, opts Options, fsyncs *atomic.Int64) (*driver, blob.Bucket) {
	t.Helper()
	d, err := newDriver(opts)
	if err != nil {
		t.Fatal(err)
	}
	if fsyncs != nil {
		real := d.fsync
		d.fsync = func(fd int) error { fsyncs.Add(1); return real(fd) }
	}
	b := blob.New(d)
	t.Cleanup(func() { _ = b.Close() })
	return d, b
}

// tmpEntries lists the files left in the temporary directory and its
// shards.
func tmpEntries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, tmpDir), func(path string, de fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if !de.IsDir() {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustReadFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s = %q, want %q", path, got, want)
	}
}

// openFdsUnder counts this process's open file descriptors on dir or
// anything under it.
func openFdsUnder(t *testing.T, dir string) int {
	t.Helper()
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list descriptors: %v", err)
	}
	n := 0
	for _, e := range ents {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err == nil && (target == real || strings.HasPrefix(target, real+"/")) {
			n++
		}
	}
	return n
}

func TestDeferSync(t *testing.T) {
	for _, deferSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("DeferSync=%v", deferSync), func(t *testing.T) {
			dir := t.TempDir()
			var fsyncs atomic.Int64
			_, b := openDriver(t, Options{Dir: dir, DeferSync: deferSync}, &fsyncs)
			ctx := t.Context()
			// Sync before anything was written (no .snapex-tmp yet).
			if err := b.Sync(ctx); err != nil {
				t.Fatalf("Sync of an empty bucket: %v", err)
			}
			const n = 20
			for i := range n {
				key := fmt.Sprintf("s/%d/obj", i)
				if i%2 == 0 {
					if err := b.WriteAll(ctx, key, []byte(key), nil); err != nil {
						t.Fatal(err)
					}
					continue
				}
				w, err := b.NewWriter(ctx, key, nil)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := w.Write([]byte(key)); err != nil {
					t.Fatal(err)
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
			}
			want := int64(n)
			if deferSync {
				want = 0
			}
			if got := fsyncs.Load(); got != want {
				t.Fatalf("%d fsyncs for %d objects, want %d", got, n, want)
			}
			// Acknowledged objects are visible before Sync.
			for i := range n {
				key := fmt.Sprintf("s/%d/obj", i)
				mustReadFile(t, filepath.Join(dir, key), []byte(key))
			}
			if err := b.Sync(ctx); err != nil {
				t.Fatalf("Sync: %v", err)
			}
			canceled, cancel := context.WithCancel(ctx)
			cancel()
			if err := b.Sync(canceled); err == nil {
				t.Fatal("Sync with a canceled context succeeded")
			}
			if left := tmpEntries(t, dir); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

// TestSyncIsSyncer: the driver offers Sync to the portable layer.
func TestSyncIsSyncer(t *testing.T) {
	d, _ := openDriver(t, Options{Dir: t.TempDir(), DeferSync: true}, nil)
	if _, ok := any(d).(blob.Syncer); !ok {
		t.Fatal("driver does not implement blob.Syncer")
	}
}

// TestDirCacheBound writes into many more directories than the cache
// keeps: everything lands where it should and the idle handles, and the
// descriptors, stay bounded; Close closes them all.
func TestDirCacheBound(t *testing.T) {
	dir := t.TempDir()
	d, err := newDriver(Options{Dir: dir, DeferSync: true})
	if err != nil {
		t.Fatal(err)
	}
	b := blob.New(d)
	ctx := t.Context()
	const dirs = 5 * maxIdleDirs
	for i := range dirs {
		key := fmt.Sprintf("exported_snapshots/org/group/Cluster0/ts/%d/db/c%04d/metadata.json", i%3, i)
		if err := b.WriteAll(ctx, key, []byte(key), nil); err != nil {
			t.Fatal(err)
		}
		cached, idle := d.dirs.stats()
		if idle > maxIdleDirs || cached > maxIdleDirs+1 {
			t.Fatalf("after %d directories: %d cached, %d idle handles", i+1, cached, idle)
		}
	}
	if got := openFdsUnder(t, dir); got < maxIdleDirs || got > maxIdleDirs+2 { // + root and the os.Root
		t.Fatalf("%d descriptors open for %d directories", got, dirs)
	}
	for i := range dirs {
		key := fmt.Sprintf("exported_snapshots/org/group/Cluster0/ts/%d/db/c%04d/metadata.json", i%3, i)
		mustReadFile(t, filepath.Join(dir, key), []byte(key))
	}
	// Every handle is idle again: no reference leaked.
	cached, idle := d.dirs.stats()
	if cached != idle+1 {
		t.Fatalf("%d handles cached but only %d idle: references leaked", cached, idle)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openFdsUnder(t, dir); got != 0 {
		t.Fatalf("%d descriptors still open after Close", got)
	}
}

// TestDirCacheConcurrent: 16 writers into shared and separate
// directories, overwriting each other's keys, with streamed and one-shot
// writes and aborts.
func TestDirCacheConcurrent(t *testing.T) {
	dir := t.TempDir()
	d, b := openDriver(t, Options{Dir: dir, DeferSync: true}, nil)
	ctx := t.Context()
	const writers, perWriter = 16, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Go(func() {
			for i := range perWriter {
				keys := []string{
					fmt.Sprintf("x/shared/w%d-%d", g, i),        // one directory for all
					fmt.Sprintf("x/own/%d/%d/obj", g, i%7),      // per writer, revisited
					fmt.Sprintf("x/race/k%d", i%5),              // same keys from everyone
					fmt.Sprintf("x/deep/%d/a/b/c/d/e/obj", i%3), // shared deep paths
				}
				for j, key := range keys {
					data := []byte(fmt.Sprintf("%s by %d", key, g))
					var err error
					switch (g + i + j) % 3 {
					case 0:
						err = b.WriteAll(ctx, key, data, nil)
					case 1:
						var w blob.Writer
						if w, err = b.NewWriter(ctx, key, nil); err == nil {
							if _, err = w.Write(data); err == nil {
								err = w.Close()
							}
						}
					case 2: // an aborted overwrite changes nothing
						var w blob.Writer
						if w, err = b.NewWriter(ctx, key, nil); err == nil {
							if _, err = w.Write([]byte("aborted")); err == nil {
								err = w.Abort()
							}
						}
					}
					if err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for o, err := range b.List(ctx, "x/") {
		if err != nil {
			t.Fatal(err)
		}
		got, err := b.ReadAll(ctx, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(got), o.Key+" by ") {
			t.Fatalf("%s holds %q", o.Key, got)
		}
	}
	if left := tmpEntries(t, dir); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if cached, idle := d.dirs.stats(); cached != idle+1 || idle > maxIdleDirs {
		t.Fatalf("%d handles cached, %d idle", cached, idle)
	}
}

func TestOverwriteAndAbort(t *testing.T) {
	dir := t.TempDir()
	_, b := openDriver(t, Options{Dir: dir, DeferSync: true}, nil)
	ctx := t.Context()
	key := "exported_snapshots/o/g/Cluster0/ts/1/db/c/rs0.0.json.gz"
	path := filepath.Join(dir, key)
	if err := b.WriteAll(ctx, key, []byte("one"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(ctx, key, []byte("two"), nil); err != nil {
		t.Fatal(err)
	}
	mustReadFile(t, path, []byte("two"))
	w, err := b.NewWriter(ctx, key, nil)
	if err != nil {
		t.Fatal(err)
	}
	big := blobtest.Data(1, writeBufferSize+10)
	for _, p := range [][]byte{big[:10], big[10:writeBufferSize], big[writeBufferSize:]} {
		if _, err := w.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mustReadFile(t, path, big)

	// Aborts, of a new key and of an overwrite, buffered or not, leave
	// nothing behind and the old object in place.
	for _, k := range []string{key, "exported_snapshots/o/g/Cluster0/ts/1/db/new/metadata.json"} {
		for _, data := range [][]byte{[]byte("small"), blobtest.Data(2, writeBufferSize)} {
			w, err := b.NewWriter(ctx, k, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if inProgress := tmpEntries(t, dir); len(inProgress) != 1 {
				t.Fatalf("temporary files during a write: %v, want one", inProgress)
			}
			if err := w.Abort(); err != nil {
				t.Fatal(err)
			}
			if left := tmpEntries(t, dir); len(left) != 0 {
				t.Fatalf("temporary files left after Abort: %v", left)
			}
		}
	}
	mustReadFile(t, path, big)
	if _, err := os.Stat(filepath.Join(dir, "exported_snapshots/o/g/Cluster0/ts/1/db/new/metadata.json")); !os.IsNotExist(err) {
		t.Fatalf("aborted new key exists: %v", err)
	}
}

// TestDirectoryRemovedBehindBucket: a cached directory removed by someone
// else is noticed and created again, the temporary directory too.
func TestDirectoryRemovedBehindBucket(t *testing.T) {
	dir := t.TempDir()
	_, b := openDriver(t, Options{Dir: dir}, nil)
	ctx := t.Context()
	if err := b.WriteAll(ctx, "a/b/c/x", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(ctx, "a/b/c/y", []byte("y"), nil); err != nil {
		t.Fatalf("write after the directory was removed: %v", err)
	}
	mustReadFile(t, filepath.Join(dir, "a/b/c/y"), []byte("y"))
	if err := os.RemoveAll(filepath.Join(dir, tmpDir)); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(ctx, "a/b/c/z", []byte("z"), nil); err != nil {
		t.Fatalf("write after %s was removed: %v", tmpDir, err)
	}
	mustReadFile(t, filepath.Join(dir, "a/b/c/z"), []byte("z"))
}

// TestCloseWithWriterOpen: a writer still open when the bucket closes
// fails cleanly, and its directory handle is closed once it is done.
func TestCloseWithWriterOpen(t *testing.T) {
	dir := t.TempDir()
	d, err := newDriver(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	b := blob.New(d)
	ctx := t.Context()
	if err := b.WriteAll(ctx, "k/first", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	w, err := b.NewWriter(ctx, "k/second", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("y")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := openFdsUnder(t, dir); got != 2 { // the temporary file and its directory
		t.Fatalf("%d descriptors open with a writer after Close, want 2", got)
	}
	err = w.Close()
	if err == nil {
		t.Fatal("writer Close after bucket Close succeeded")
	}
	if blob.KindOf(err) != blob.KindInvalid {
		t.Fatalf("writer Close after bucket Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "k/second")); !os.IsNotExist(err) {
		t.Fatalf("object appeared: %v", err)
	}
	if left := tmpEntries(t, dir); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
	if got := openFdsUnder(t, dir); got != 0 {
		t.Fatalf("%d descriptors still open after Close and the writer", got)
	}
}

// TestSymlinkConfinement: symbolic links inside Dir never lead writes
// out of it, wherever they are on the path, including a directory the
// cache already holds that is replaced by a link.
func TestSymlinkConfinement(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	secret := filepath.Join(outside, "secret")
	if err := os.WriteFile(secret, []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, b := openDriver(t, Options{Dir: dir, DeferSync: true}, nil)
	ctx := t.Context()
	nothingOutside := func(t *testing.T) {
		t.Helper()
		ents, err := os.ReadDir(outside)
		if err != nil {
			t.Fatal(err)
		}
		if len(ents) != 1 || ents[0].Name() != "secret" {
			t.Fatalf("files appeared outside Dir: %v", ents)
		}
		mustReadFile(t, secret, []byte("s"))
	}

	t.Run("deep directory link", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(dir, "p/q"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "p/q/link")); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"p/q/link/x", "p/q/link/sub/x", "p/q/link/secret"} {
			if err := b.WriteAll(ctx, key, []byte("x"), nil); err == nil {
				t.Fatalf("wrote %s through a link out of Dir", key)
			}
		}
		nothingOutside(t)
	})

	t.Run("cached directory replaced by a link", func(t *testing.T) {
		if err := b.WriteAll(ctx, "r/s/x", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		if err := os.RemoveAll(filepath.Join(dir, "r/s")); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "r/s")); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteAll(ctx, "r/s/y", []byte("y"), nil); err == nil {
			t.Fatal("wrote through a link that replaced a cached directory")
		}
		nothingOutside(t)
	})

	t.Run("link as the object", func(t *testing.T) {
		// A rename replaces a link at the key; it does not write through it.
		if err := os.Symlink(secret, filepath.Join(dir, "obj")); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteAll(ctx, "obj", []byte("new"), nil); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Lstat(filepath.Join(dir, "obj"))
		if err != nil || !fi.Mode().IsRegular() {
			t.Fatalf("obj is %v, %v; want a regular file", fi, err)
		}
		nothingOutside(t)
	})

	t.Run("link inside Dir is followed", func(t *testing.T) {
		if err := os.MkdirAll(filepath.Join(dir, "target"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink("target", filepath.Join(dir, "inlink")); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteAll(ctx, "inlink/sub/x", []byte("x"), nil); err != nil {
			t.Fatal(err)
		}
		mustReadFile(t, filepath.Join(dir, "target/sub/x"), []byte("x"))
	})

	t.Run("temporary directory is a link", func(t *testing.T) {
		dir2 := t.TempDir()
		if err := os.Symlink(outside, filepath.Join(dir2, tmpDir)); err != nil {
			t.Fatal(err)
		}
		_, b2 := openDriver(t, Options{Dir: dir2}, nil)
		if err := b2.WriteAll(ctx, "x", []byte("x"), nil); err == nil {
			t.Fatal("wrote with a temporary directory outside Dir")
		}
		w, err := b2.NewWriter(ctx, "y", nil)
		if err == nil {
			_ = w.Abort()
			t.Fatal("NewWriter with a temporary directory outside Dir succeeded")
		}
		nothingOutside(t)
	})
}

// TestWriteErrorsClassified: errors of the write path keep their kind
// and name what failed.
func TestWriteErrorsClassified(t *testing.T) {
	b := open(t, readOnlyDir(t))
	err := b.WriteAll(t.Context(), "a/b/c", []byte("x"), nil)
	if blob.KindOf(err) != blob.KindPermissionDenied || !strings.Contains(err.Error(), tmpDir) {
		t.Fatalf("write into a read-only directory: %v", err)
	}

	dir := t.TempDir()
	b = open(t, dir)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(t.Context(), "f", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	// A file where a directory is needed.
	err = b.WriteAll(t.Context(), "f/g/h", []byte("x"), nil)
	if err == nil || !strings.Contains(err.Error(), "not a directory") || !strings.Contains(err.Error(), "f/g/h") {
		t.Fatalf("write under a file: %v", err)
	}
}
