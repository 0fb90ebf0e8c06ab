package local

import (
	"os"
	"path/filepath"
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
			tmp, err := os.ReadDir(filepath.Join(dirs[b], tmpDir))
			if err != nil {
				t.Fatal(err)
			}
			if len(tmp) != 0 {
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
