package testenv

import (
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ferretdbBinary is the FerretDB runner built from tools/ferretdb.
const ferretdbBinary = "snapex-ferretdb"

// ferretdbReady starts the line the runner prints once it accepts
// connections, followed by its MongoDB URI.
const ferretdbReady = "FERRETDB_READY "

// FerretDB starts a FerretDB server (MongoDB wire protocol, SQLite backend)
// for this test, with its data in a temporary directory, and returns its
// mongodb:// URI. The server picks its own free port on 127.0.0.1 and stops
// when the test ends.
func FerretDB(t testing.TB) string {
	t.Helper()
	uri, proc, err := startFerretDB(requireBinary(t, ferretdbBinary, true), t.TempDir())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := proc.stop(syscall.SIGTERM, 10*time.Second); err != nil {
			t.Logf("testenv: %v", err)
		}
	})
	return uri
}

// startFerretDB runs the FerretDB runner with data in dir and waits for its
// ready line.
func startFerretDB(bin, dir string) (string, *process, error) {
	ready := make(chan string, 1)
	out := &output{onLine: func(line string) {
		if uri, ok := strings.CutPrefix(line, ferretdbReady); ok {
			select {
			case ready <- uri:
			default:
			}
		}
	}}
	cmd := exec.Command(bin, "-listen-addr", "127.0.0.1:0", "-data-dir", dir)
	proc, err := startProcess("ferretdb", cmd, out)
	if err != nil {
		return "", nil, err
	}
	select {
	case uri := <-ready:
		return uri, proc, nil
	case <-proc.done:
		return "", nil, fmt.Errorf("ferretdb %w (%v); output:\n%s", errExited, proc.waitErr, out)
	case <-time.After(time.Minute):
		_ = proc.stop(syscall.SIGKILL, time.Second)
		return "", nil, fmt.Errorf("ferretdb printed no ready line within a minute; output:\n%s", out)
	}
}
