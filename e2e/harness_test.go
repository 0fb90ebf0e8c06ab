// Package e2e drives the real snapex binary with the official Atlas Go SDK.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mongodb-forks/digest"
	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/testenv"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
	"golang.org/x/oauth2"
)

func TestMain(m *testing.M) { testenv.RunMain(m) }

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// snapexBinary builds cmd/snapex once per test process.
func snapexBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "snapex-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "snapex")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/snapex/snapex/cmd/snapex").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// server is a running snapex process.
type server struct {
	url  string
	cmd  *exec.Cmd
	dir  string
	logs *syncBuffer // everything the process wrote to stderr
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) WriteLine(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.WriteString(s)
	b.buf.WriteByte('\n')
}

// String returns everything written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startServer writes cfg (with %s for the directory) and runs snapex serve
// on a random port until the test ends. Scheduling passes are off unless
// cfg sets them (withoutScheduling).
func startServer(t *testing.T, dir, cfg string) *server {
	t.Helper()
	path := filepath.Join(dir, "snapex.yaml")
	if err := os.WriteFile(path, []byte(withoutScheduling(t, cfg)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(snapexBinary(t), "serve", "--config", path, "--listen", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	addr := make(chan string, 1)
	logs := &syncBuffer{}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 4<<20)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			logs.WriteLine(line)
			if !sent {
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "snapex serving" {
					addr <- rec["addr"].(string)
					sent = true
				}
			}
			if testing.Verbose() {
				fmt.Fprintln(os.Stderr, "snapex:", line)
			}
		}
		if !sent {
			close(addr)
		}
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("snapex exited before serving")
		}
		return &server{url: "http://" + a, cmd: cmd, dir: dir, logs: logs}
	case <-time.After(30 * time.Second):
		t.Fatal("snapex did not start within 30s")
	}
	return nil
}

// digestClient is the SDK authenticated with an API key, every response
// validated against the OpenAPI subset.
func digestClient(t *testing.T, url, pub, priv string) *admin.APIClient {
	t.Helper()
	tr := digest.NewTransportWithHTTPRoundTripper(pub, priv, apitest.NewTransport(t, nil))
	hc, err := tr.Client()
	if err != nil {
		t.Fatal(err)
	}
	c, err := admin.NewClient(admin.UseBaseURL(url), admin.UseHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oauthClient is the SDK authenticated as a service account (base URL set
// first, as UseOAuthAuth derives the token URL from it).
func oauthClient(t *testing.T, url, id, secret string) *admin.APIClient {
	t.Helper()
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, apitest.NewTransport(t, nil).Client())
	c, err := admin.NewClient(admin.UseBaseURL(url), admin.UseOAuthAuth(ctx, id, secret))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func writeSecrets(t *testing.T, dir string, secrets map[string]string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, v := range secrets {
		if err := os.WriteFile(filepath.Join(dir, "secrets", name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// result holds an SDK call's value and error: val(call.Execute()).get(t).
type result[T any] struct {
	v   T
	err error
}

func val[T any](v T, _ *http.Response, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%v", describe(r.err))
	}
	return r.v
}

func describe(err error) string {
	if apiErr, ok := admin.AsError(err); ok {
		return fmt.Sprintf("%s: %s", apiErr.GetErrorCode(), apiErr.GetDetail())
	}
	return strings.TrimSpace(err.Error())
}
