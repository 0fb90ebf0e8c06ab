package local

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/blobtest"
)

func open(t testing.TB, dir string) blob.Bucket {
	t.Helper()
	b, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	return b
}

func TestConformance(t *testing.T) {
	dirs := map[blob.Bucket]string{}
	blobtest.Run(t, func(t *testing.T) blob.Bucket {
		dir := t.TempDir()
		b := open(t, dir)
		dirs[b] = dir
		return b
	}, blobtest.Options{
		PartSize:         1 << 20, // no parts here; the sizes still cross buffer boundaries
		Denied:           func(t *testing.T) blob.Bucket { return open(t, readOnlyDir(t)) },
		DeniedWritesOnly: true,
		AfterAbort: func(t *testing.T, b blob.Bucket, key string) {
			if tmp := tmpEntries(t, dirs[b]); len(tmp) != 0 {
				t.Fatalf("temporary files left after abort: %v", tmp)
			}
		},
	})
}

// readOnlyDir returns an empty directory nobody can create files in: made
// immutable when running as root (root ignores mode bits), mode 0555
// otherwise.
func readOnlyDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 {
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(dir, 0o755) })
		return dir
	}
	setImmutable(t, dir, true)
	t.Cleanup(func() { setImmutable(t, dir, false) })
	return dir
}

// fsImmutableFL is FS_IMMUTABLE_FL from linux/fs.h.
const fsImmutableFL = 0x10

func setImmutable(t *testing.T, dir string, on bool) {
	t.Helper()
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		t.Fatalf("read file attributes of %s: %v", dir, err)
	}
	if on {
		flags |= fsImmutableFL
	} else {
		flags &^= fsImmutableFL
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, int(flags)); err != nil {
		t.Fatalf("set immutable=%v on %s (needs CAP_LINUX_IMMUTABLE and ext4/xfs/btrfs): %v", on, dir, err)
	}
}

// BenchmarkWrite streams a 64 MiB object into a temporary directory.
func BenchmarkWrite(b *testing.B) {
	blobtest.BenchmarkWrite(b, open(b, b.TempDir()), blobtest.BenchSize)
}

// BenchmarkRead reads a 64 MiB object back.
func BenchmarkRead(b *testing.B) {
	blobtest.BenchmarkRead(b, open(b, b.TempDir()), blobtest.BenchSize)
}

func TestReservedAndConflictingKeys(t *testing.T) {
	b := open(t, t.TempDir())
	err := b.WriteAll(t.Context(), ".snapex-tmp/x", []byte("x"), nil)
	if blob.KindOf(err) != blob.KindInvalid || !strings.Contains(err.Error(), "reserved") || strings.Count(err.Error(), "blob:") != 1 {
		t.Fatalf("write under the reserved directory: %v", err)
	}
	if _, err := b.NewReader(t.Context(), ".snapex-tmp/x"); blob.KindOf(err) != blob.KindInvalid {
		t.Fatalf("read under the reserved directory: %v", err)
	}
	// A key cannot be both an object and a directory on a file system.
	if err := b.WriteAll(t.Context(), "a/b", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteAll(t.Context(), "a/b/c", []byte("x"), nil); err == nil {
		t.Fatal("wrote a/b/c over the file a/b")
	}
	if err := b.WriteAll(t.Context(), "a", []byte("x"), nil); err == nil {
		t.Fatal("wrote the file a over the directory a")
	}
	if _, err := Open(Options{Dir: filepath.Join(t.TempDir(), "missing")}); blob.KindOf(err) != blob.KindNotFound {
		t.Fatalf("Open of a missing directory: %v", err)
	}
	if _, err := Open(Options{}); blob.KindOf(err) != blob.KindInvalid {
		t.Fatalf("Open without Dir: %v", err)
	}
}

// TestSymlinkCannotEscape: a symbolic link inside Dir pointing outside it
// neither lets writes out nor reads in.
func TestSymlinkCannotEscape(t *testing.T) {
	dir, outside := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir)
	if err := b.WriteAll(t.Context(), "link/x", []byte("x"), nil); err == nil {
		t.Fatal("wrote through a symbolic link out of Dir")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); !os.IsNotExist(err) {
		t.Fatalf("file appeared outside Dir: %v", err)
	}
	if _, err := b.ReadAll(t.Context(), "link/secret"); err == nil {
		t.Fatal("read through a symbolic link out of Dir")
	}
}

// TestCloseLeavesNoTemporaryDirectory: after writes through both paths
// (WriteAll and a streaming writer), closing the bucket leaves only the
// objects in Dir, while a bucket still writing keeps its directory.
func TestCloseLeavesNoTemporaryDirectory(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	other := open(t, dir)
	ctx := t.Context()
	if err := b.WriteAll(ctx, "exports/a.json.gz", []byte("a"), nil); err != nil {
		t.Fatal(err)
	}
	w, err := b.NewWriter(ctx, "exports/b.json.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("b")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	pending, err := other.NewWriter(ctx, "exports/c.json.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pending.Write([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".snapex-tmp")); err != nil {
		t.Fatalf("the other bucket's write in progress lost its temporary directory: %v", err)
	}
	if err := pending.Close(); err != nil {
		t.Fatalf("write in progress after the first bucket closed: %v", err)
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "exports" {
		t.Fatalf("bucket root after Close holds %v, want only exports/", entries)
	}
}

// Buckets on one directory opened and closed by concurrent writers (one
// per export job into the same local bucket) never fail a write: a Close
// that removes the empty temporary directory under another writer only
// makes that writer recreate it.
func TestConcurrentBucketsOnOneDirectoryKeepWriting(t *testing.T) {
	dir := t.TempDir()
	const writers, rounds, objects = 8, 40, 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				b, err := Open(Options{Dir: dir, DeferSync: true})
				if err != nil {
					errs <- err
					return
				}
				for o := range objects {
					key := fmt.Sprintf("job%d/round%d/obj%d", w, r, o)
					if err := b.WriteAll(t.Context(), key, []byte(key), nil); err != nil {
						errs <- fmt.Errorf("write %s: %w", key, err)
						_ = b.Close()
						return
					}
				}
				if err := b.Close(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n != writers*rounds*objects {
		t.Fatalf("%d objects on disk, want %d", n, writers*rounds*objects)
	}
}
