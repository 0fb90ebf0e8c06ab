package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Outputs are not deleted during the measurement but moved into a trash
// directory (one rename) and deleted at the end, and no contender is
// measured within deletionQuiet of a deletion: on this machine's ext4
// (no journal), creating thousands of directories right after deleting
// thousands is up to 2× slower than on a fresh file system (measured:
// three back-to-back runs of the tiny-collections floor took 2.2, 3.4
// and 4.3 s), which penalised whichever contender ran after a deletion.
// The cause is in the kernel's inode allocator (fs/ext4/ialloc.c,
// recently_deleted): without a journal, a free inode deleted less than
// 60 s ago is skipped (less than 360 s ago while the inode table block
// holding it is dirty, which every new inode allocated into that block
// makes it), and every allocation in the block group checks each such
// inode again, one buffer-cache lookup each. perf profiles of the floor
// on the tiny dataset 90 s after the previous run emptied its trash put
// 80 % of its directory and file creations' samples there. So the
// harness deletes nothing before measuring (an earlier run's state goes
// to the trash too) and waits when an earlier run deleted its trash
// less than deletionQuiet ago.

// deletionQuiet is how long after the last deletion measurements wait:
// the kernel's 360 s, plus a margin.
const deletionQuiet = 370 * time.Second

// lastDeletionFile, under the work directory, records when a run of the
// harness last deleted something, so the next run (which may start
// seconds after the previous one emptied its trash) waits too.
const lastDeletionFile = "last-deletion"

// deletionsIn is the work directory whose lastDeletionFile removeAll
// updates; set by initTrash (unit tests leave it empty).
var deletionsIn string

// removeAll is os.RemoveAll that records the time when it deleted
// something.
func removeAll(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	err := os.RemoveAll(path)
	if deletionsIn != "" {
		stamp := strconv.FormatInt(time.Now().Unix(), 10)
		if werr := os.WriteFile(filepath.Join(deletionsIn, lastDeletionFile), []byte(stamp), 0o644); err == nil && werr != nil {
			err = fmt.Errorf("record deletion: %w", werr)
		}
	}
	return err
}

// awaitQuiet writes back every deletion (sync) and sleeps until
// deletionQuiet has passed since the last one recorded.
func awaitQuiet(logf func(string, ...any)) {
	syscall.Sync()
	if wait := quietWait(time.Now()); wait > 0 {
		logf("waiting %s: files deleted less than %s ago slow down file creation on ext4 without a journal (bench/trash.go)", wait.Round(time.Second), deletionQuiet)
		time.Sleep(wait)
	}
}

// quietWait is how long after now measurements must still wait for the
// last recorded deletion; 0 when none is recorded.
func quietWait(now time.Time) time.Duration {
	if deletionsIn == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(deletionsIn, lastDeletionFile))
	if err != nil {
		return 0
	}
	sec, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		return 0
	}
	return max(0, time.Unix(sec, 0).Add(deletionQuiet).Sub(now))
}

// trashDir holds the outputs of finished runs; set by initTrash.
var (
	trashDir string
	trashSeq atomic.Int64
	trashRun string // tells this run's discarded outputs from earlier ones
)

// initTrash records deletions under work from now on, empties the trash
// (what an earlier run left, unless keep) and creates it.
func initTrash(work string, keep bool) error {
	deletionsIn = work
	trashDir = filepath.Join(work, "trash")
	trashRun = strconv.FormatInt(time.Now().UnixNano(), 36)
	if keep {
		return os.MkdirAll(trashDir, 0o755)
	}
	if err := removeAll(trashDir); err != nil {
		return fmt.Errorf("empty %s: %w", trashDir, err)
	}
	if err := os.MkdirAll(trashDir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", trashDir, err)
	}
	return nil
}

// discard moves dir (if it exists) into the trash, to be deleted after
// the measurements. Without a trash (unit tests), it deletes dir.
func discard(dir string) error {
	if trashDir == "" {
		return removeAll(dir)
	}
	to := filepath.Join(trashDir, fmt.Sprintf("%s-%06d-%s", trashRun, trashSeq.Add(1), filepath.Base(dir)))
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
	if err := removeAll(trashDir); err != nil {
		return fmt.Errorf("empty %s: %w", trashDir, err)
	}
	return nil
}
