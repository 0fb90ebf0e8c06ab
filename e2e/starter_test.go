package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStarterSetupServesWithPrintedKey runs `snapex serve` without a config
// in an empty directory: it creates ./snapex-data, prints an Atlas-shaped
// key once, and that key drives the API through the official SDK. The
// operations endpoints answer, and SIGTERM stops the process cleanly.
func TestStarterSetupServesWithPrintedKey(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(snapexBinary(t), "serve", "--listen", "127.0.0.1:0")
	cmd.Dir = dir
	// The first serve also writes a CLI profile; keep it in the test's dir.
	cfgHome := filepath.Join(dir, "config-home")
	cmd.Env = append(os.Environ(), "XDG_CONFIG_HOME="+cfgHome, "SNAPEX_CLI_CONFIG=")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill() //nolint:errcheck
	keyLine := regexp.MustCompile(`API key\s+public ([a-z]{8})\s+private ([0-9a-f-]{36})`)
	groupLine := regexp.MustCompile(`project \(group\)\s+([0-9a-f]{24})`)
	var pub, priv, group, addr string
	sc := bufio.NewScanner(stderr)
	deadline := time.AfterFunc(30*time.Second, func() { _ = cmd.Process.Kill() })
	for addr == "" && sc.Scan() {
		line := sc.Text()
		if m := keyLine.FindStringSubmatch(line); m != nil {
			pub, priv = m[1], m[2]
		}
		if m := groupLine.FindStringSubmatch(line); m != nil {
			group = m[1]
		}
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && rec["msg"] == "snapex serving" {
			addr = rec["addr"].(string)
		}
	}
	deadline.Stop()
	go func() { _, _ = io.Copy(io.Discard, stderr) }()
	if pub == "" || priv == "" || group == "" || addr == "" {
		t.Fatalf("starter output lacked key, group or address: %q %q %q %q", pub, priv, group, addr)
	}
	for _, f := range []string{"snapex.yaml", "snapex.db", "secrets/" + pub + ".key"} {
		if _, err := os.Stat(filepath.Join(dir, "snapex-data", f)); err != nil {
			t.Fatalf("starter file %s: %v", f, err)
		}
	}
	if info, _ := os.Stat(filepath.Join(dir, "snapex-data", "secrets", pub+".key")); info.Mode().Perm() != 0o600 {
		t.Fatalf("private key file mode %v", info.Mode().Perm())
	}
	url := "http://" + addr
	c := digestClient(t, url, pub, priv)
	clusters := val(c.ClustersApi.ListClusters(context.Background(), group).Execute()).get(t)
	if clusters.GetTotalCount() != 1 {
		t.Fatalf("starter clusters: %d", clusters.GetTotalCount())
	}
	// The profile the starter wrote drives the CLI (only the port differs
	// from the starter's 127.0.0.1:8080 here).
	r := runCLI(t, []string{"XDG_CONFIG_HOME=" + cfgHome, "MONGODB_ATLAS_OPS_MANAGER_URL=" + url}, "backups", "snapshots", "list", "Cluster0", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"results": []`) {
		t.Fatalf("CLI with the starter profile: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready", "/metrics": "snapex_http_requests_total"} {
		resp, err := http.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Fatalf("%s: %d %.200s", path, resp.StatusCode, body)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("snapex did not stop within 20s of SIGTERM")
	}
	// init never overwrites an existing setup.
	again := exec.Command(snapexBinary(t), "init", "--dir", filepath.Join(dir, "snapex-data"))
	if out, err := again.CombinedOutput(); err == nil || !strings.Contains(string(out), "already exists") {
		t.Fatalf("init over an existing setup: %v %s", err, out)
	}
}
