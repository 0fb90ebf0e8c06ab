// Package blobtest is the conformance suite every blob driver runs against
// a real server (or directory): round trips of every size class, the
// visibility rules of writers, listing, deletion, error kinds, key
// validation and concurrency. It also holds the shared write benchmark.
package blobtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snapex/snapex/internal/blob"
)

// Options describes the driver under test.
type Options struct {
	// PartSize is the part (block, chunk) size of the buckets NewBucket
	// returns. Multi-part cases write more than two parts of it, so keep
	// it small (the store's minimum).
	PartSize int64

	// Denied returns a bucket on the same store whose credentials are
	// wrong or lack permission. Every operation on it must fail with
	// KindPermissionDenied. Required.
	Denied func(t *testing.T) blob.Bucket

	// DeniedWritesOnly says the Denied bucket still allows reads and
	// listings (a local directory made read-only); only writes are then
	// required to fail.
	DeniedWritesOnly bool

	// AfterAbort, if set, runs after a multi-part write to key in b was
	// aborted, to check driver-specific leftovers (e.g. that S3 has no
	// pending multipart upload).
	AfterAbort func(t *testing.T, b blob.Bucket, key string)
}

// Run runs the conformance suite. newBucket must return a new, empty
// bucket for each call; Run closes it at the end of the subtest.
func Run(t *testing.T, newBucket func(t *testing.T) blob.Bucket, opts Options) {
	t.Helper()
	if opts.PartSize <= 0 {
		t.Fatal("blobtest: Options.PartSize is required")
	}
	s := &suite{newBucket: newBucket, opts: opts}
	cases := []struct {
		name string
		fn   func(t *testing.T, b blob.Bucket)
	}{
		{"RoundTrip", s.roundTrip},
		{"WriteAll", s.writeAll},
		{"Overwrite", s.overwrite},
		{"InvisibleUntilClose", s.invisibleUntilClose},
		{"Abort", s.abort},
		{"WriterStates", s.writerStates},
		{"CanceledContext", s.canceledContext},
		{"List", s.list},
		{"Delete", s.delete},
		{"NotFound", s.notFound},
		{"KeyValidation", s.keyValidation},
		{"UnusualKeys", s.unusualKeys},
		{"ConcurrentWriters", s.concurrentWriters},
		{"ConcurrentSameKey", s.concurrentSameKey},
		{"SmallObjectsThenSync", s.smallObjectsThenSync},
		{"ClosedBucket", s.closedBucket},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := s.bucket(t)
			c.fn(t, b)
		})
	}
	t.Run("PermissionDenied", s.permissionDenied)
}

type suite struct {
	newBucket func(t *testing.T) blob.Bucket
	opts      Options
}

func (s *suite) bucket(t *testing.T) blob.Bucket {
	t.Helper()
	b := s.newBucket(t)
	t.Cleanup(func() { _ = b.Close() })
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// Data returns n pseudo-random bytes derived from seed.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := range 8 {
			out[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n - n%8; i < n; i++ {
		out[i] = byte(r.Uint32())
	}
	return out
}

// write streams data to key in chunks of chunk bytes and closes.
func write(t *testing.T, b blob.Bucket, key string, data []byte, chunk int) {
	t.Helper()
	w, err := b.NewWriter(ctx(t), key, nil)
	if err != nil {
		t.Fatalf("NewWriter(%q): %v", key, err)
	}
	writeChunks(t, w, data, chunk)
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%q) after %d bytes: %v", key, len(data), err)
	}
}

func writeChunks(t *testing.T, w io.Writer, data []byte, chunk int) {
	t.Helper()
	for len(data) > 0 {
		k := min(chunk, len(data))
		n, err := w.Write(data[:k])
		if err != nil {
			t.Fatalf("Write: %v", err)
		}
		if n != k {
			t.Fatalf("Write wrote %d of %d bytes without error", n, k)
		}
		data = data[k:]
	}
}

// mustRead reads key and compares it with want.
func mustRead(t *testing.T, b blob.Bucket, key string, want []byte) {
	t.Helper()
	got, err := b.ReadAll(ctx(t), key)
	if err != nil {
		t.Fatalf("ReadAll(%q): %v", key, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("ReadAll(%q) = %d bytes %s, want %d bytes %s", key, len(got), digest(got), len(want), digest(want))
	}
}

func digest(b []byte) string {
	if len(b) <= 16 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q…%q", b[:8], b[len(b)-8:])
}

func mustKind(t *testing.T, what string, err error, want blob.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want kind %v", what, want)
	}
	if got := blob.KindOf(err); got != want {
		t.Fatalf("%s: kind %v, want %v (error: %v)", what, got, want, err)
	}
	var be *blob.Error
	if !errors.As(err, &be) {
		t.Fatalf("%s: error %T is not a *blob.Error: %v", what, err, err)
	}
}

func mustAbsent(t *testing.T, b blob.Bucket, key string) {
	t.Helper()
	ok, err := b.Exists(ctx(t), key)
	if err != nil {
		t.Fatalf("Exists(%q): %v", key, err)
	}
	if ok {
		t.Fatalf("Exists(%q) = true, want false", key)
	}
	_, err = b.NewReader(ctx(t), key)
	mustKind(t, fmt.Sprintf("NewReader(%q)", key), err, blob.KindNotFound)
}

func listAll(t *testing.T, b blob.Bucket, prefix string) []blob.ObjectInfo {
	t.Helper()
	var out []blob.ObjectInfo
	for o, err := range b.List(ctx(t), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		out = append(out, o)
	}
	return out
}

func keys(objs []blob.ObjectInfo) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Key
	}
	return out
}

func (s *suite) roundTrip(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	sizes := []struct {
		name  string
		n     int
		chunk int
	}{
		{"empty", 0, 1},
		{"one byte", 1, 1},
		{"small", 1000, 7},
		{"exactly one part", p, 64 << 10},
		{"one part plus one byte", p + 1, 64 << 10},
		{"exactly two parts", 2 * p, 1 << 20},
		{"more than two parts, odd writes", 2*p + p/2 + 3, 100_003},
		{"more than two parts, one write", 3*p + 17, 3*p + 17},
	}
	for i, c := range sizes {
		t.Run(c.name, func(t *testing.T) {
			key := fmt.Sprintf("round/trip-%d.bin", i)
			data := Data(uint64(i+1), c.n)
			start := time.Now().Add(-time.Hour)
			write(t, b, key, data, c.chunk)
			mustRead(t, b, key, data)
			info, err := b.Stat(ctx(t), key)
			if err != nil {
				t.Fatalf("Stat: %v", err)
			}
			if info.Key != key || info.Size != int64(c.n) {
				t.Fatalf("Stat = %+v, want key %q size %d", info, key, c.n)
			}
			if info.ModTime.Before(start) || info.ModTime.After(time.Now().Add(time.Hour)) {
				t.Fatalf("Stat ModTime %v is not around now", info.ModTime)
			}
			// A reader used in small reads sees the same bytes.
			r, err := b.NewReader(ctx(t), key)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			got, err := io.ReadAll(io.LimitReader(r, int64(c.n)+10))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("reader Close: %v", err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("streamed read differs: %d bytes, want %d", len(got), c.n)
			}
		})
	}
	objs := listAll(t, b, "round/")
	if len(objs) != len(sizes) {
		t.Fatalf("List(round/) = %v, want %d objects", keys(objs), len(sizes))
	}
	for _, o := range objs {
		var i int
		if _, err := fmt.Sscanf(o.Key, "round/trip-%d.bin", &i); err != nil {
			t.Fatalf("unexpected key %q", o.Key)
		}
		if o.Size != int64(sizes[i].n) {
			t.Fatalf("List size of %q = %d, want %d", o.Key, o.Size, sizes[i].n)
		}
	}
}

func (s *suite) writeAll(t *testing.T, b blob.Bucket) {
	if err := b.WriteAll(ctx(t), "exported_snapshots/.permissioncheck", nil, nil); err != nil {
		t.Fatalf("WriteAll empty: %v", err)
	}
	mustRead(t, b, "exported_snapshots/.permissioncheck", nil)
	meta := []byte(`{"collectionName":"c","indexes":[]}` + "\n")
	opts := &blob.WriterOptions{ContentType: "application/json"}
	if err := b.WriteAll(ctx(t), "p/db/c/metadata.json", meta, opts); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	mustRead(t, b, "p/db/c/metadata.json", meta)
	// WriteAll keeps no reference to the caller's slice.
	copy(meta, "XXXX")
	mustRead(t, b, "p/db/c/metadata.json", []byte(`{"collectionName":"c","indexes":[]}`+"\n"))
	big := Data(7, int(s.opts.PartSize)+5)
	if err := b.WriteAll(ctx(t), "p/big", big, nil); err != nil {
		t.Fatalf("WriteAll of more than a part: %v", err)
	}
	mustRead(t, b, "p/big", big)
}

func (s *suite) overwrite(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	v1 := Data(1, 2*p+10)
	v2 := Data(2, 100)
	v3 := Data(3, p+p/3)
	write(t, b, "o/key", v1, 1<<20)
	write(t, b, "o/key", v2, 1<<20)
	mustRead(t, b, "o/key", v2)
	write(t, b, "o/key", v3, 1<<20)
	mustRead(t, b, "o/key", v3)
	if err := b.WriteAll(ctx(t), "o/key", nil, nil); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	mustRead(t, b, "o/key", nil)
	if objs := listAll(t, b, "o/"); len(objs) != 1 || objs[0].Size != 0 {
		t.Fatalf("List after overwrites = %+v, want one empty object", objs)
	}
}

func (s *suite) invisibleUntilClose(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	data := Data(4, 2*p+p/2)
	w, err := b.NewWriter(ctx(t), "v/new", nil)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, data[:2*p+1], 1<<20) // at least one part is on the server
	mustAbsent(t, b, "v/new")
	if objs := listAll(t, b, "v/"); len(objs) != 0 {
		t.Fatalf("List during write = %v, want nothing", keys(objs))
	}
	writeChunks(t, w, data[2*p+1:], 1<<20)
	mustAbsent(t, b, "v/new")
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mustRead(t, b, "v/new", data)

	// While an existing object is being overwritten, readers see the old one.
	old := Data(5, 1000)
	write(t, b, "v/old", old, 1000)
	w, err = b.NewWriter(ctx(t), "v/old", nil)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, data, 1<<20)
	mustRead(t, b, "v/old", old)
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mustRead(t, b, "v/old", data)
}

func (s *suite) abort(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	for _, n := range []int{0, 10, 2*p + 5} {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			key := fmt.Sprintf("a/new-%d", n)
			w, err := b.NewWriter(ctx(t), key, nil)
			if err != nil {
				t.Fatal(err)
			}
			writeChunks(t, w, Data(6, n), 1<<20)
			if err := w.Abort(); err != nil {
				t.Fatalf("Abort: %v", err)
			}
			mustAbsent(t, b, key)
			if s.opts.AfterAbort != nil {
				s.opts.AfterAbort(t, b, key)
			}
		})
	}
	t.Run("keeps previous object", func(t *testing.T) {
		old := Data(8, 3000)
		write(t, b, "a/old", old, 3000)
		w, err := b.NewWriter(ctx(t), "a/old", nil)
		if err != nil {
			t.Fatal(err)
		}
		writeChunks(t, w, Data(9, 2*p+5), 1<<20)
		if err := w.Abort(); err != nil {
			t.Fatalf("Abort: %v", err)
		}
		mustRead(t, b, "a/old", old)
		if s.opts.AfterAbort != nil {
			s.opts.AfterAbort(t, b, "a/old")
		}
	})
	if objs := listAll(t, b, ""); len(objs) != 1 || objs[0].Key != "a/old" {
		t.Fatalf("List after aborts = %v, want [a/old]", keys(objs))
	}
}

func (s *suite) writerStates(t *testing.T, b blob.Bucket) {
	w, err := b.NewWriter(ctx(t), "s/closed", nil)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, []byte("abc"), 3)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mustKind(t, "second Close", w.Close(), blob.KindInvalid)
	_, err = w.Write([]byte("x"))
	mustKind(t, "Write after Close", err, blob.KindInvalid)
	mustKind(t, "Abort after Close", w.Abort(), blob.KindInvalid)
	mustRead(t, b, "s/closed", []byte("abc"))

	w, err = b.NewWriter(ctx(t), "s/aborted", nil)
	if err != nil {
		t.Fatal(err)
	}
	writeChunks(t, w, []byte("abc"), 3)
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("second Abort: %v", err)
	}
	_, err = w.Write([]byte("x"))
	mustKind(t, "Write after Abort", err, blob.KindInvalid)
	mustKind(t, "Close after Abort", w.Close(), blob.KindInvalid)
	mustAbsent(t, b, "s/aborted")
}

func (s *suite) canceledContext(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	for _, n := range []int{10, 2*p + 5} {
		t.Run(fmt.Sprintf("%d bytes", n), func(t *testing.T) {
			key := fmt.Sprintf("c/key-%d", n)
			c, cancel := context.WithCancel(ctx(t))
			w, err := b.NewWriter(c, key, nil)
			if err != nil {
				t.Fatal(err)
			}
			data := Data(10, n)
			half := n / 2
			writeChunks(t, w, data[:half], 1<<20)
			cancel()
			// Writes may or may not fail now; Close must.
			for rest := data[half:]; len(rest) > 0; {
				k := min(1<<20, len(rest))
				if _, err := w.Write(rest[:k]); err != nil {
					break
				}
				rest = rest[k:]
			}
			if err := w.Close(); err == nil {
				t.Fatal("Close after cancel succeeded")
			}
			mustAbsent(t, b, key)
			if s.opts.AfterAbort != nil {
				s.opts.AfterAbort(t, b, key)
			}
		})
	}
}

func (s *suite) list(t *testing.T, b blob.Bucket) {
	all := []string{"a.txt", "a/1", "a/2", "a/b/3", "a/b/c/4", "ab", "b/5", "z"}
	// Write in a scrambled order; List must sort.
	for i, k := range []string{"b/5", "a/b/c/4", "z", "a/2", "ab", "a.txt", "a/1", "a/b/3"} {
		if err := b.WriteAll(ctx(t), k, Data(uint64(i), i*10), nil); err != nil {
			t.Fatalf("WriteAll(%q): %v", k, err)
		}
	}
	cases := []struct {
		prefix string
		want   []string
	}{
		{"", all},
		{"a", []string{"a.txt", "a/1", "a/2", "a/b/3", "a/b/c/4", "ab"}},
		{"a/", []string{"a/1", "a/2", "a/b/3", "a/b/c/4"}},
		{"a/b", []string{"a/b/3", "a/b/c/4"}},
		{"a/b/", []string{"a/b/3", "a/b/c/4"}},
		{"a/b/c/", []string{"a/b/c/4"}},
		{"a/b/c/4", []string{"a/b/c/4"}},
		{"b/", []string{"b/5"}},
		{"q", nil},
		{"q/r/", nil},
		{"a/b/c/4/", nil},
	}
	for _, c := range cases {
		got := keys(listAll(t, b, c.prefix))
		if !slices.Equal(got, c.want) && (len(got) != 0 || len(c.want) != 0) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
	// Sizes are reported.
	sizes := map[string]int64{"b/5": 0, "a/b/c/4": 10, "z": 20, "a/2": 30, "ab": 40, "a.txt": 50, "a/1": 60, "a/b/3": 70}
	for _, o := range listAll(t, b, "") {
		if o.Size != sizes[o.Key] {
			t.Errorf("List size of %q = %d, want %d", o.Key, o.Size, sizes[o.Key])
		}
	}
	// Breaking out of the loop stops the iteration.
	n := 0
	for _, err := range b.List(ctx(t), "") {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 2 {
			break
		}
	}
	if n != 2 {
		t.Fatalf("early break counted %d", n)
	}
	// Invalid prefixes are refused.
	for _, p := range []string{"/a", "a/../b", "a//b", "a\x00"} {
		for _, err := range b.List(ctx(t), p) {
			mustKind(t, fmt.Sprintf("List(%q)", p), err, blob.KindInvalid)
		}
	}
}

func (s *suite) delete(t *testing.T, b blob.Bucket) {
	for _, k := range []string{"d/1", "d/2", "d/sub/3"} {
		if err := b.WriteAll(ctx(t), k, []byte(k), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Delete(ctx(t), "d/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	mustAbsent(t, b, "d/1")
	if err := b.Delete(ctx(t), "d/1"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if err := b.Delete(ctx(t), "never/was"); err != nil {
		t.Fatalf("Delete of a missing key: %v", err)
	}
	// A prefix is not an object: deleting it removes nothing.
	if err := b.Delete(ctx(t), "d/sub"); err != nil {
		t.Fatalf("Delete of a prefix: %v", err)
	}
	if got := keys(listAll(t, b, "d/")); !slices.Equal(got, []string{"d/2", "d/sub/3"}) {
		t.Fatalf("List after deletes = %q", got)
	}
	mustRead(t, b, "d/sub/3", []byte("d/sub/3"))
}

func (s *suite) notFound(t *testing.T, b blob.Bucket) {
	_, err := b.NewReader(ctx(t), "missing/key.json")
	mustKind(t, "NewReader", err, blob.KindNotFound)
	t.Logf("not found: %v", err)
	if !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("errors.Is(err, ErrNotFound) = false for %v", err)
	}
	if !strings.Contains(err.Error(), "missing/key.json") {
		t.Fatalf("error %q does not name the key", err)
	}
	var be *blob.Error
	errors.As(err, &be)
	if be.Op != "read" || be.Key != "missing/key.json" || be.Bucket == "" || be.Err == nil {
		t.Fatalf("error fields = %+v", *be)
	}
	if !strings.Contains(err.Error(), be.Bucket) {
		t.Fatalf("error %q does not name the bucket %q", err, be.Bucket)
	}
	_, err = b.Stat(ctx(t), "missing/key.json")
	mustKind(t, "Stat", err, blob.KindNotFound)
	_, err = b.ReadAll(ctx(t), "missing/key.json")
	mustKind(t, "ReadAll", err, blob.KindNotFound)
	// A prefix of an object is not an object.
	if err := b.WriteAll(ctx(t), "dir/obj", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	mustAbsent(t, b, "dir")
}

// InvalidKeys are keys every driver must refuse.
var InvalidKeys = []string{
	"",
	"/abs",
	"/",
	"..",
	"../escape",
	"a/../../escape",
	"a/./b",
	".",
	"a//b",
	"trailing/",
	"nul\x00byte",
	"new\nline",
	"\xff\xfe",
	`back\slash`,
	strings.Repeat("k", blob.MaxKeyLen+1),
}

func (s *suite) keyValidation(t *testing.T, b blob.Bucket) {
	for _, key := range InvalidKeys {
		what := fmt.Sprintf("%.40q", key)
		_, err := b.NewWriter(ctx(t), key, nil)
		mustKind(t, "NewWriter "+what, err, blob.KindInvalid)
		mustKind(t, "WriteAll "+what, b.WriteAll(ctx(t), key, []byte("x"), nil), blob.KindInvalid)
		_, err = b.NewReader(ctx(t), key)
		mustKind(t, "NewReader "+what, err, blob.KindInvalid)
		_, err = b.Stat(ctx(t), key)
		mustKind(t, "Stat "+what, err, blob.KindInvalid)
		_, err = b.Exists(ctx(t), key)
		mustKind(t, "Exists "+what, err, blob.KindInvalid)
		mustKind(t, "Delete "+what, b.Delete(ctx(t), key), blob.KindInvalid)
		if !errors.Is(err, blob.ErrInvalid) {
			t.Fatalf("errors.Is(err, ErrInvalid) = false for %v", err)
		}
	}
	if objs := listAll(t, b, ""); len(objs) != 0 {
		t.Fatalf("invalid keys created objects: %q", keys(objs))
	}
	// The longest allowed key works (in segments short enough for a
	// local file system).
	long := strings.Repeat(strings.Repeat("k", 99)+"/", 11)[:blob.MaxKeyLen-3] + "end"
	if err := b.WriteAll(ctx(t), long, []byte("long"), nil); err != nil {
		t.Fatalf("WriteAll of a %d-byte key: %v", len(long), err)
	}
	mustRead(t, b, long, []byte("long"))
}

// UnusualKeys are valid keys with characters that need escaping in URLs.
var UnusualKeys = []string{
	"with space/and+plus.json",
	"percent%20and%2Fslash",
	"q?a=b&c#frag",
	"ünïcödé/日本語/😀.json.gz",
	"a/.complete",
	"..dots../...",
	"semi;colon,comma:colon@at$dollar!bang'quote(paren)*star~tilde",
	`double"quote<lt>{brace}[bracket]|pipe^caret` + "`",
	"trailing.",
}

func (s *suite) unusualKeys(t *testing.T, b blob.Bucket) {
	for i, key := range UnusualKeys {
		data := []byte(fmt.Sprintf("object %d: %s", i, key))
		if err := b.WriteAll(ctx(t), key, data, nil); err != nil {
			t.Fatalf("WriteAll(%q): %v", key, err)
		}
		mustRead(t, b, key, data)
		info, err := b.Stat(ctx(t), key)
		if err != nil || info.Key != key || info.Size != int64(len(data)) {
			t.Fatalf("Stat(%q) = %+v, %v", key, info, err)
		}
	}
	want := slices.Clone(UnusualKeys)
	slices.Sort(want)
	if got := keys(listAll(t, b, "")); !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if got := keys(listAll(t, b, "ünïcödé/日本")); !slices.Equal(got, []string{"ünïcödé/日本語/😀.json.gz"}) {
		t.Fatalf("List(unicode prefix) = %q", got)
	}
	for _, key := range UnusualKeys {
		if err := b.Delete(ctx(t), key); err != nil {
			t.Fatalf("Delete(%q): %v", key, err)
		}
	}
	if objs := listAll(t, b, ""); len(objs) != 0 {
		t.Fatalf("List after deletes = %q", keys(objs))
	}
}

func (s *suite) concurrentWriters(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			data := Data(uint64(100+i), p+p/2+i)
			w, err := b.NewWriter(ctx(t), fmt.Sprintf("cw/%d", i), nil)
			if err != nil {
				errs[i] = err
				return
			}
			for rest := data; len(rest) > 0; {
				k := min(256<<10, len(rest))
				if _, err := w.Write(rest[:k]); err != nil {
					errs[i] = err
					_ = w.Abort()
					return
				}
				rest = rest[k:]
			}
			errs[i] = w.Close()
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	for i := range n {
		mustRead(t, b, fmt.Sprintf("cw/%d", i), Data(uint64(100+i), p+p/2+i))
	}
}

func (s *suite) concurrentSameKey(t *testing.T, b blob.Bucket) {
	p := int(s.opts.PartSize)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	datas := make([][]byte, n)
	for i := range n {
		datas[i] = Data(uint64(200+i), p+p/2+i*1000)
	}
	for i := range n {
		wg.Go(func() {
			w, err := b.NewWriter(ctx(t), "same/key", nil)
			if err != nil {
				errs[i] = err
				return
			}
			for rest := datas[i]; len(rest) > 0; {
				k := min(256<<10, len(rest))
				if _, err := w.Write(rest[:k]); err != nil {
					errs[i] = err
					_ = w.Abort()
					return
				}
				rest = rest[k:]
			}
			errs[i] = w.Close()
		})
	}
	wg.Wait()
	got, err := b.ReadAll(ctx(t), "same/key")
	if err != nil {
		t.Fatalf("ReadAll: %v (writer errors %v)", err, errs)
	}
	ok := 0
	match := -1
	for i := range n {
		if errs[i] == nil {
			ok++
			if bytes.Equal(got, datas[i]) {
				match = i
			}
		}
	}
	if ok == 0 {
		t.Fatalf("every writer failed: %v", errs)
	}
	// Stores may refuse a racing commit; whatever wins is one whole object.
	if match < 0 {
		t.Fatalf("content (%d bytes) is not the whole content of any successful writer; errors %v", len(got), errs)
	}
}

// smallObjectsThenSync writes what an export of tiny collections writes
// (a small data file and a metadata.json per collection at keys nine
// segments deep) from several goroutines, calls Sync as an exporter does
// before recording progress, and reads everything back.
func (s *suite) smallObjectsThenSync(t *testing.T, b blob.Bucket) {
	const collections, writers = 24, 6
	prefix := "exported_snapshots/org/group/Cluster0/2026-11-22T2359/1763855999/tinydb/"
	data := func(c int, name string) []byte {
		return append(Data(uint64(300+c), 300), name...)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for g := range writers {
		wg.Go(func() {
			for c := g; c < collections && errs[g] == nil; c += writers {
				dir := fmt.Sprintf("%sc%05d/", prefix, c)
				errs[g] = b.WriteAll(ctx(t), dir+"rs0.0.json.gz", data(c, "rs0.0.json.gz"), nil)
				if errs[g] != nil {
					break
				}
				// The metadata through a streaming writer, in small writes.
				w, err := b.NewWriter(ctx(t), dir+"metadata.json", nil)
				if err != nil {
					errs[g] = err
					break
				}
				meta := data(c, "metadata.json")
				for rest := meta; len(rest) > 0 && err == nil; rest = rest[min(len(rest), 100):] {
					_, err = w.Write(rest[:min(len(rest), 100)])
				}
				if err != nil {
					_ = w.Abort()
					errs[g] = err
					break
				}
				errs[g] = w.Close()
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", g, err)
		}
	}
	if err := b.Sync(ctx(t)); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	objs := listAll(t, b, prefix)
	if len(objs) != 2*collections {
		t.Fatalf("List found %d objects, want %d", len(objs), 2*collections)
	}
	for c := range collections {
		for _, name := range []string{"rs0.0.json.gz", "metadata.json"} {
			mustRead(t, b, fmt.Sprintf("%sc%05d/%s", prefix, c, name), data(c, name))
		}
	}
	// Sync with nothing new to make durable is fine too.
	if err := b.Sync(ctx(t)); err != nil {
		t.Fatalf("second Sync: %v", err)
	}
}

func (s *suite) closedBucket(t *testing.T, b blob.Bucket) {
	if err := b.WriteAll(ctx(t), "k", []byte("x"), nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	mustKind(t, "WriteAll after Close", b.WriteAll(ctx(t), "k", nil, nil), blob.KindInvalid)
	_, err := b.NewReader(ctx(t), "k")
	mustKind(t, "NewReader after Close", err, blob.KindInvalid)
	for _, err := range b.List(ctx(t), "") {
		mustKind(t, "List after Close", err, blob.KindInvalid)
	}
}

func (s *suite) permissionDenied(t *testing.T) {
	if s.opts.Denied == nil {
		t.Fatal("blobtest: Options.Denied is required: every driver must show that refused credentials give KindPermissionDenied")
	}
	// Put an object in place first where the store allows it, so that a
	// read is refused rather than missing.
	b := s.opts.Denied(t)
	t.Cleanup(func() { _ = b.Close() })
	err := b.WriteAll(ctx(t), "exported_snapshots/.permissioncheck", nil, nil)
	mustKind(t, "WriteAll", err, blob.KindPermissionDenied)
	t.Logf("permission denied: %v", err)
	if !errors.Is(b.WriteAll(ctx(t), "x", []byte("x"), nil), blob.ErrPermissionDenied) {
		t.Fatal("errors.Is(err, ErrPermissionDenied) = false")
	}
	w, err := b.NewWriter(ctx(t), "denied/stream", nil)
	if err == nil {
		data := Data(11, 2*int(s.opts.PartSize)+1)
		for rest := data; len(rest) > 0 && err == nil; {
			k := min(1<<20, len(rest))
			_, err = w.Write(rest[:k])
			rest = rest[k:]
		}
		if err == nil {
			err = w.Close()
		} else {
			if cerr := w.Close(); cerr == nil {
				t.Fatal("Close after a failed Write succeeded")
			}
		}
	}
	mustKind(t, "streamed write", err, blob.KindPermissionDenied)
	if s.opts.DeniedWritesOnly {
		return
	}
	_, err = b.ReadAll(ctx(t), "exported_snapshots/.permissioncheck")
	mustKind(t, "ReadAll", err, blob.KindPermissionDenied)
	for _, err := range b.List(ctx(t), "") {
		mustKind(t, "List", err, blob.KindPermissionDenied)
	}
}

// WriteThroughFaults writes a streamed object of size bytes and a small
// object through faulty (a bucket behind a FaultProxy), then reads the
// large one back through direct (the same bucket without the proxy): the
// drivers' retries must deliver it intact. The caller asserts how many
// faults its proxy injected.
func WriteThroughFaults(t *testing.T, faulty, direct blob.Bucket, size int) {
	t.Helper()
	data := Data(1, size)
	w, err := faulty.NewWriter(ctx(t), "retried/big", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := faulty.WriteAll(ctx(t), "retried/small", []byte("small"), nil); err != nil {
		t.Fatalf("WriteAll: %v", err)
	}
	mustRead(t, direct, "retried/big", data)
}
