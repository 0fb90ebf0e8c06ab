package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// Azurite's fixed development account.
const (
	azuriteAccount = "devstoreaccount1"
	azuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// AzuriteServer is a running Azurite Blob service.
type AzuriteServer struct {
	ServiceURL  string // http://127.0.0.1:PORT/devstoreaccount1
	AccountName string // devstoreaccount1
	AccountKey  string // Azurite's well-known key for devstoreaccount1

	port int
	proc *process
}

// Azurite starts an Azurite Blob service for this test, storing blobs in a
// temporary directory. It runs with --skipApiVersionCheck because azblob
// sends a newer service version than Azurite knows. It stops when the test
// ends.
func Azurite(t testing.TB) AzuriteServer {
	t.Helper()
	bin := requireBinary(t, "azurite-blob", false)
	dir := t.TempDir()
	newCmd := func(port int) *exec.Cmd {
		return exec.Command(bin, "--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
			"--location", dir, "--skipApiVersionCheck", "--silent")
	}
	probe := func(port int) error { return httpProbe("http://" + hostPort(port) + "/" + azuriteAccount) }
	proc, port, err := launch("azurite-blob", time.Minute, newCmd, probe)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		// Azurite 3.37 closes its service on SIGTERM but its node process
		// then stays alive; its data is throwaway, so kill it outright.
		if err := proc.stop(syscall.SIGKILL, 10*time.Second); err != nil {
			t.Logf("testenv: %v", err)
		}
	})
	return AzuriteServer{
		ServiceURL:  "http://" + hostPort(port) + "/" + azuriteAccount,
		AccountName: azuriteAccount,
		AccountKey:  azuriteKey,
		port:        port,
		proc:        proc,
	}
}

// Client returns an azblob client authenticated with the shared key.
func (s AzuriteServer) Client() (*azblob.Client, error) {
	cred, err := azblob.NewSharedKeyCredential(s.AccountName, s.AccountKey)
	if err != nil {
		return nil, fmt.Errorf("azurite shared key: %w", err)
	}
	c, err := azblob.NewClientWithSharedKeyCredential(s.ServiceURL+"/", cred, nil)
	if err != nil {
		return nil, fmt.Errorf("azurite client: %w", err)
	}
	return c, nil
}

// CreateContainer creates a blob container or fails the test.
func (s AzuriteServer) CreateContainer(t testing.TB, name string) {
	t.Helper()
	c, err := s.Client()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.CreateContainer(ctx, name, nil); err != nil {
		t.Fatalf("testenv: create Azure container %q: %v", name, err)
	}
}
