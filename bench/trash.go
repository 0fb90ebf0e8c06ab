package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
)

// Outputs are not deleted during the measurement but moved into a trash
// directory (one rename) and deleted at the end: on this machine's ext4,
// creating thousands of directories right after deleting thousands is
// up to 2× slower than on a fresh file system (measured: three back-to-back
// runs of the tiny-collections floor took 2.2, 3.4 and 4.3 s), which
// penalised whichever contender ran after a deletion.

// trashDir holds the outputs of finished runs; set by initTrash.
var (
	trashDir string
	trashSeq atomic.Int64
)

// initTrash empties (what an earlier run left) and creates the trash
// directory under work.
func initTrash(work string) error {
	trashDir = filepath.Join(work, "trash")
	if err := os.RemoveAll(trashDir); err != nil {
		return fmt.Errorf("empty %s: %w", trashDir, err)
	}
	if err := os.MkdirAll(trashDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", trashDir, err)
	}
	return nil
}

// discard moves dir (if it exists) into the trash. Without a trash (unit
// tests), it deletes dir.
func discard(dir string) error {
	if trashDir == "" {
		return os.RemoveAll(dir)
	}
	to := filepath.Join(trashDir, fmt.Sprintf("%06d-%s", trashSeq.Add(1), filepath.Base(dir)))
	if err := os.Rename(dir, to); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("move %s to the trash: %w", dir, err)
	}
	return nil
}

// emptyTrash deletes every discarded output.
func emptyTrash() error {
	if trashDir == "" {
		return nil
	}
	if err := os.RemoveAll(trashDir); err != nil {
		return fmt.Errorf("empty %s: %w", trashDir, err)
	}
	return nil
}
