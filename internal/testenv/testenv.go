// Package testenv starts real servers for snapex tests: PostgreSQL, versitygw
// (S3), Azurite (Azure Blob), fake-gcs-server (GCS, in-process) and FerretDB
// (MongoDB wire protocol), and finds the mongo-tools binaries.
//
// External programs are installed by scripts/install-test-deps.sh; a test
// that needs a missing one fails with that instruction, it never skips.
//
// Every server listens on 127.0.0.1 on a free port and keeps its data in a
// temporary directory. Per-test servers stop in t.Cleanup. The PostgreSQL
// server is shared by all tests of one test binary; packages that use it call
// RunMain from TestMain so that it stops when the tests end:
//
//	func TestMain(m *testing.M) { testenv.RunMain(m) }
//
// Child processes get SIGKILL when the test binary dies (Linux parent-death
// signal), so a crashed or timed-out run leaves no server behind; leftover
// PostgreSQL directories are removed by the next run. The package is for
// Linux, where the tests run.
package testenv

import (
	"os"
	"sync"
	"testing"
)

// installHint is the command every "not found" failure points to.
const installHint = "scripts/install-test-deps.sh"

// shutdowns holds the stop functions of servers shared by a whole test binary.
var shutdowns struct {
	mu    sync.Mutex
	funcs []func()
}

// onShutdown registers f to run when RunMain finishes the tests.
func onShutdown(f func()) {
	shutdowns.mu.Lock()
	defer shutdowns.mu.Unlock()
	shutdowns.funcs = append(shutdowns.funcs, f)
}

// stopShared stops all shared servers, newest first.
func stopShared() {
	shutdowns.mu.Lock()
	funcs := shutdowns.funcs
	shutdowns.funcs = nil
	shutdowns.mu.Unlock()
	for i := len(funcs) - 1; i >= 0; i-- {
		funcs[i]()
	}
}

// RunMain runs the tests of m, stops the servers shared by the test binary
// (PostgreSQL) and exits with the tests' status. Call it from TestMain.
func RunMain(m *testing.M) {
	code := m.Run()
	stopShared()
	os.Exit(code)
}
