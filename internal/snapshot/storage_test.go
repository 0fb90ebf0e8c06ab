package snapshot

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func putObject(t *testing.T, st Storage, key, content string) {
	t.Helper()
	w, err := st.Create(context.Background(), key)
	if err != nil {
		t.Fatalf("Create(%q): %v", key, err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close(%q): %v", key, err)
	}
}

func getObject(t *testing.T, st Storage, key string) (string, error) {
	t.Helper()
	r, err := st.Open(context.Background(), key)
	if err != nil {
		return "", err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	return string(b), err
}

func listKeys(t *testing.T, st Storage, prefix string) []string {
	t.Helper()
	objs, err := st.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	keys := []string{}
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestLocalStorageVisibilityOnlyAfterClose(t *testing.T) {
	st, dir := newDirStorage(t)
	ctx := context.Background()
	w, err := st.Create(ctx, "s/a/obj")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "hello"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "s/a/obj"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open before Close: err = %v, want ErrNotExist", err)
	}
	if keys := listKeys(t, st, ""); len(keys) != 0 {
		t.Fatalf("List before Close = %v, want nothing", keys)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatalf("Abort after Close: %v", err)
	}
	if got, err := getObject(t, st, "s/a/obj"); err != nil || got != "hello" {
		t.Fatalf("after Close: %q, %v", got, err)
	}
	objs, err := st.List(ctx, "s/")
	if err != nil || len(objs) != 1 || objs[0].Size != 5 {
		t.Fatalf("List = %+v, %v", objs, err)
	}

	// Replace on Close; an aborted write leaves the old object and no temp file.
	w2, err := st.Create(ctx, "s/a/obj")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.WriteString(w2, "discarded")
	if err := w2.Abort(); err != nil {
		t.Fatal(err)
	}
	if got, _ := getObject(t, st, "s/a/obj"); got != "hello" {
		t.Fatalf("after Abort: %q", got)
	}
	ents, err := os.ReadDir(filepath.Join(dir, "s", "a"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("directory holds %v (%v), want only obj", ents, err)
	}
	putObject(t, st, "s/a/obj", "replaced")
	if got, _ := getObject(t, st, "s/a/obj"); got != "replaced" {
		t.Fatalf("after replace: %q", got)
	}
}

func TestLocalStorageListAndDelete(t *testing.T) {
	st, dir := newDirStorage(t)
	ctx := context.Background()
	for _, k := range []string{"a/b/1", "a/b/2", "a/bc/3", "a/c", "ab/4", "z"} {
		putObject(t, st, k, k)
	}
	// In-progress objects are never listed.
	pending, err := st.Create(ctx, "a/b/pending")
	if err != nil {
		t.Fatal(err)
	}
	defer pending.Abort()

	for prefix, want := range map[string][]string{
		"":      {"a/b/1", "a/b/2", "a/bc/3", "a/c", "ab/4", "z"},
		"a/":    {"a/b/1", "a/b/2", "a/bc/3", "a/c"},
		"a/b":   {"a/b/1", "a/b/2", "a/bc/3"},
		"a/b/":  {"a/b/1", "a/b/2"},
		"a":     {"a/b/1", "a/b/2", "a/bc/3", "a/c", "ab/4"},
		"nope/": {},
	} {
		if got := listKeys(t, st, prefix); !reflect.DeepEqual(got, want) {
			t.Errorf("List(%q) = %v, want %v", prefix, got, want)
		}
	}
	pending.Abort()

	// Delete of a prefix removes the subtree but not "a/bc" or "ab".
	if err := st.Delete(ctx, "a/b"); err != nil {
		t.Fatal(err)
	}
	if got := listKeys(t, st, ""); !reflect.DeepEqual(got, []string{"a/bc/3", "a/c", "ab/4", "z"}) {
		t.Fatalf("after Delete(a/b): %v", got)
	}
	if err := st.Delete(ctx, "a/bc/3"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "a", "bc")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("empty directory a/bc left behind: %v", err)
	}
	if err := st.Delete(ctx, "does/not/exist"); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	if got := listKeys(t, st, ""); !reflect.DeepEqual(got, []string{"a/c", "ab/4", "z"}) {
		t.Fatalf("after deletes: %v", got)
	}
}

func TestLocalStorageRejectsHostileKeys(t *testing.T) {
	parent := t.TempDir()
	if err := os.Mkdir(filepath.Join(parent, "store"), 0o755); err != nil {
		t.Fatal(err)
	}
	st := openDirStorage(t, filepath.Join(parent, "store"))
	ctx := context.Background()
	writeFile(t, filepath.Join(parent, "secret"), []byte("secret"))
	for _, key := range []string{"../secret", "/etc/passwd", "a/../../secret", "a//b", "./a", "a\\..\\b", "x\x00", ""} {
		if _, err := st.Create(ctx, key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Create(%q) = %v, want ErrInvalidName", key, err)
		}
		if _, err := st.Open(ctx, key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Open(%q) = %v, want ErrInvalidName", key, err)
		}
		if err := st.Delete(ctx, key); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Delete(%q) = %v, want ErrInvalidName", key, err)
		}
	}
	// The directory of writes in progress is no place for objects.
	if _, err := st.Create(ctx, ".snapex-tmp/x"); err == nil {
		t.Errorf("Create under the reserved directory succeeded")
	}
	if _, err := st.List(ctx, "/abs"); err == nil {
		t.Errorf("List(/abs) succeeded")
	}

	// A symbolic link inside the store must not lead outside it.
	if err := os.Symlink(parent, filepath.Join(parent, "store", "link")); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Open(ctx, "link/secret"); err == nil {
		t.Fatalf("Open through a symlink escaped the store")
	}
	// The object is placed on Close, so the write fails at Create or there.
	w, err := st.Create(ctx, "link/new")
	if err == nil {
		_, _ = io.WriteString(w, "new")
		err = w.Close()
	}
	if err == nil {
		t.Fatalf("a write through a symlink escaped the store")
	}
	if _, err := os.Stat(filepath.Join(parent, "new")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("file created outside the store")
	}
	for _, k := range listKeys(t, st, "") {
		if strings.Contains(k, "secret") {
			t.Fatalf("List followed a symlink out of the store: %v", k)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(parent, "secret")); string(b) != "secret" {
		t.Fatalf("outside file changed")
	}
}
