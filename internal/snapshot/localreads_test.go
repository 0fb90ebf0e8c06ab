package snapshot

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// A directory read through a cached handle, then deleted and made again
// through the storage, is read afresh.
func TestLocalStorageReadsRecreatedDirectories(t *testing.T) {
	st, _ := newDirStorage(t)
	putObject(t, st, "s1/rs0/db/a.bson", "one")
	if got, err := getObject(t, st, "s1/rs0/db/a.bson"); err != nil || got != "one" {
		t.Fatalf("first read: %q, %v", got, err)
	}
	if err := st.Delete(context.Background(), "s1/rs0/db/a.bson"); err != nil {
		t.Fatal(err)
	}
	if _, err := getObject(t, st, "s1/rs0/db/a.bson"); err == nil {
		t.Fatal("deleted object still readable")
	}
	putObject(t, st, "s1/rs0/db/a.bson", "two")
	if got, err := getObject(t, st, "s1/rs0/db/a.bson"); err != nil || got != "two" {
		t.Fatalf("after delete and rewrite: %q, %v", got, err)
	}
}

// Readers of more directories than the local driver keeps open, at once,
// all read their objects while handles are evicted under them.
func TestLocalStorageConcurrentReadsAcrossManyDirectories(t *testing.T) {
	st, _ := newDirStorage(t)
	const dirs = 200 // more than the driver's 64 idle directory handles
	for i := range dirs {
		putObject(t, st, fmt.Sprintf("s1/rs0/db%03d/c.bson", i), fmt.Sprint(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for round := range 20 {
				i := (g*7 + round*13) % dirs
				got, err := getObject(t, st, fmt.Sprintf("s1/rs0/db%03d/c.bson", i))
				if err != nil || got != fmt.Sprint(i) {
					errs <- fmt.Errorf("db%03d: %q, %v", i, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
