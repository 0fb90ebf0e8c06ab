package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// outputLimit is how much of a process's latest output is kept for error
// messages.
const outputLimit = 64 << 10

// output collects what a process writes: the last outputLimit bytes, and
// each complete line passed to onLine (when set).
type output struct {
	mu      sync.Mutex
	tail    []byte
	partial []byte
	onLine  func(line string)
}

// Write implements io.Writer.
func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.tail = append(o.tail, p...)
	if len(o.tail) > outputLimit {
		o.tail = append([]byte(nil), o.tail[len(o.tail)-outputLimit:]...)
	}
	if o.onLine != nil {
		o.partial = append(o.partial, p...)
		for {
			i := bytes.IndexByte(o.partial, '\n')
			if i < 0 {
				break
			}
			o.onLine(string(bytes.TrimRight(o.partial[:i], "\r")))
			o.partial = o.partial[i+1:]
		}
	}
	return len(p), nil
}

// String returns the kept output.
func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return string(o.tail)
}

// spawnRequest asks the spawner thread to start a command.
type spawnRequest struct {
	cmd    *exec.Cmd
	result chan error
}

var (
	spawnOnce     sync.Once
	spawnRequests chan spawnRequest
)

// spawn starts cmd from one OS thread that lives as long as the process.
// Linux delivers the parent-death signal when the thread that forked the
// child exits, so forking from a short-lived thread could kill servers early.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnRequests = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread stays ours
			for r := range spawnRequests {
				r.result <- r.cmd.Start()
			}
		}()
	})
	r := spawnRequest{cmd: cmd, result: make(chan error, 1)}
	spawnRequests <- r
	return <-r.result
}

// process is a running external server.
type process struct {
	name    string
	cmd     *exec.Cmd
	out     *output
	done    chan struct{} // closed once the process has exited
	waitErr error         // the result of Wait, set before done is closed
}

// startProcess starts cmd with its output captured in out (a new buffer when
// nil). The child is killed if the test binary dies.
func startProcess(name string, cmd *exec.Cmd, out *output) (*process, error) {
	if out == nil {
		out = &output{}
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = 2 * time.Second // grandchildren may hold the output pipe
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	if err := spawn(cmd); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, out: out, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig, waits up to grace for the process to exit, then kills it.
// It returns once the process is gone.
func (p *process) stop(sig os.Signal, grace time.Duration) error {
	if p.exited() {
		return nil
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal %s: %w", p.name, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	return fmt.Errorf("%s ignored %v for %s and was killed", p.name, sig, grace)
}

// errExited means a server process ended before it became ready.
var errExited = errors.New("exited before it was ready")

// waitReady polls probe until it succeeds, the process exits or timeout
// passes.
func (p *process) waitReady(timeout time.Duration, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		if p.exited() {
			return fmt.Errorf("%s %w (%v); output:\n%s", p.name, errExited, p.waitErr, p.out)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w; output:\n%s", p.name, timeout, err, p.out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launchAttempts bounds retries when a server dies at start, typically
// because another process took its port between freePort and bind.
const launchAttempts = 3

// launch starts a server on a free port and waits until probe(port)
// succeeds. newCmd builds the command for a port.
func launch(name string, timeout time.Duration, newCmd func(port int) *exec.Cmd, probe func(port int) error) (*process, int, error) {
	var lastErr error
	for range launchAttempts {
		port, err := freePort()
		if err != nil {
			return nil, 0, err
		}
		p, err := startProcess(name, newCmd(port), nil)
		if err != nil {
			return nil, 0, err
		}
		err = p.waitReady(timeout, func() error { return probe(port) })
		if err == nil {
			return p, port, nil
		}
		_ = p.stop(syscall.SIGKILL, time.Second)
		if !errors.Is(err, errExited) {
			return nil, 0, err
		}
		lastErr = err
	}
	return nil, 0, lastErr
}

// hostPort formats 127.0.0.1:port.
func hostPort(port int) string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// httpProbe succeeds once url answers with any HTTP response.
func httpProbe(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe request: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe %s: %w", url, err)
	}
	return resp.Body.Close()
}
