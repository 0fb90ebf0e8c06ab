package testenv

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/fsouza/fake-gcs-server/fakestorage"
	"google.golang.org/api/option"
)

// GCSServer is a running in-process fake-gcs-server.
type GCSServer struct {
	Endpoint string // JSON API endpoint for option.WithEndpoint: http://127.0.0.1:PORT/storage/v1/
	Host     string // 127.0.0.1:PORT, the value for STORAGE_EMULATOR_HOST

	srv *fakestorage.Server
}

// FakeGCS starts an in-process fake-gcs-server for this test over plain HTTP,
// keeping objects in a temporary directory. Its public host is its own
// host:port, so XML-API reads of the storage client reach it. It stops when
// the test ends.
func FakeGCS(t testing.TB) GCSServer {
	t.Helper()
	dir := t.TempDir()
	var lastErr error
	for range launchAttempts {
		port, err := freePort()
		if err != nil {
			t.Fatalf("testenv: %v", err)
		}
		host := hostPort(port)
		srv, err := fakestorage.NewServerWithOptions(fakestorage.Options{
			Scheme:      "http",
			Host:        "127.0.0.1",
			Port:        uint16(port),
			PublicHost:  host,
			ExternalURL: "http://" + host,
			StorageRoot: dir,
			Writer:      io.Discard,
		})
		if err != nil {
			lastErr = err // most likely the port was taken meanwhile
			continue
		}
		t.Cleanup(srv.Stop)
		return GCSServer{Endpoint: "http://" + host + "/storage/v1/", Host: host, srv: srv}
	}
	t.Fatalf("testenv: start fake-gcs-server: %v", lastErr)
	return GCSServer{}
}

// Client returns a cloud.google.com/go/storage client for the server,
// without authentication.
func (s GCSServer) Client(ctx context.Context) (*storage.Client, error) {
	c, err := storage.NewClient(ctx, option.WithEndpoint(s.Endpoint), option.WithoutAuthentication())
	if err != nil {
		return nil, fmt.Errorf("fake-gcs client: %w", err)
	}
	return c, nil
}

// CreateBucket creates a bucket or fails the test.
func (s GCSServer) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := s.Client(ctx)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	defer c.Close()
	if err := c.Bucket(name).Create(ctx, "snapex-test", nil); err != nil {
		t.Fatalf("testenv: create GCS bucket %q: %v", name, err)
	}
}
