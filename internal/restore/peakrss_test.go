package restore

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// RunMeasured runs cmd to its end and returns its combined output and its
// peak RSS in KiB: VmHWM of /proc/PID/status, polled every 10 ms (the last
// reading before exit). wait4's ru_maxrss is not used: after fork and
// exec it still holds the parent's RSS at the fork, which is the test
// binary's, not the child's.
func RunMeasured(cmd *exec.Cmd) ([]byte, int64, error) {
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak int64
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if v := vmHWM(cmd.Process.Pid); v > peak {
			peak = v
		}
		select {
		case err := <-done:
			return out.Bytes(), peak, err
		case <-tick.C:
		}
	}
}

// vmHWM reads the peak resident set size of pid in KiB (0 when gone).
func vmHWM(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}
