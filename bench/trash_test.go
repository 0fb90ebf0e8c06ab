package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDeletionsDelayTheMeasurement: deleting something records the time,
// and measurements then wait deletionQuiet from it; moving outputs to
// the trash with -keep-outputs deletes nothing and records nothing.
func TestDeletionsDelayTheMeasurement(t *testing.T) {
	t.Cleanup(func() { deletionsIn, trashDir = "", "" })
	work := t.TempDir()
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(filepath.Join(out, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := initTrash(work, true); err != nil {
		t.Fatal(err)
	}
	if err := discard(out); err != nil {
		t.Fatal(err)
	}
	if err := removeAll(filepath.Join(work, "missing")); err != nil {
		t.Fatal(err)
	}
	if w := quietWait(time.Now()); w != 0 {
		t.Fatalf("wait %s after moving to the trash and deleting nothing, want 0", w)
	}
	if entries, _ := os.ReadDir(trashDir); len(entries) != 1 {
		t.Fatalf("trash holds %d entries, want the discarded output", len(entries))
	}
	before := time.Now()
	if err := emptyTrash(); err != nil {
		t.Fatal(err)
	}
	w := quietWait(before)
	if w < deletionQuiet-2*time.Second || w > deletionQuiet+time.Second {
		t.Fatalf("wait %s right after emptying the trash, want about %s", w, deletionQuiet)
	}
	if w := quietWait(before.Add(deletionQuiet + 2*time.Second)); w != 0 {
		t.Fatalf("wait %s once %s have passed, want 0", w, deletionQuiet)
	}
}
