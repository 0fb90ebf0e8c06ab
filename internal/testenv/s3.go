package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// S3Server is a running versitygw S3 server with the posix backend.
type S3Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Region    string // us-east-1

	port int
	proc *process
}

// VersityGW starts a versitygw S3 server for this test, storing objects in a
// temporary directory. It checks SigV4 signatures against AccessKey and
// SecretKey, which are random. The server stops when the test ends.
func VersityGW(t testing.TB) S3Server {
	t.Helper()
	s, stop, err := StartVersityGW(requireBinary(t, "versitygw", false), t.TempDir())
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Logf("testenv: %v", err)
		}
	})
	return s
}

// StartVersityGW starts versitygw (the binary bin) on a free 127.0.0.1
// port with random keys and its posix backend in dir, for callers
// without a testing.TB (the bench harness). stop ends the server.
func StartVersityGW(bin, dir string) (s S3Server, stop func() error, err error) {
	s = S3Server{
		AccessKey: strings.ToUpper(randomHex(10)),
		SecretKey: randomHex(20),
		Region:    "us-east-1",
	}
	newCmd := func(port int) *exec.Cmd {
		// --keep-alive: S3 and MinIO keep connections open between
		// requests; versitygw closes each one after a single request
		// unless told otherwise, which made every request of a test or
		// benchmark pay a TCP connect and hid whether clients reuse
		// their connections.
		return exec.Command(bin, "--port", hostPort(port), "--keep-alive",
			"--access", s.AccessKey, "--secret", s.SecretKey, "posix", dir)
	}
	probe := func(port int) error { return httpProbe("http://" + hostPort(port) + "/") }
	proc, port, err := launch("versitygw", 30*time.Second, newCmd, probe)
	if err != nil {
		return S3Server{}, nil, err
	}
	s.Endpoint, s.port, s.proc = "http://"+hostPort(port), port, proc
	return s, func() error { return proc.stop(syscall.SIGTERM, 5*time.Second) }, nil
}

// Client returns an aws-sdk-go-v2 S3 client for the server (path-style
// addressing, static credentials).
func (s S3Server) Client() *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.Endpoint),
		Region:       s.Region,
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates a bucket or fails the test.
func (s S3Server) CreateBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("testenv: create S3 bucket %q: %v", name, err)
	}
}

// randomHex returns 2n random hex digits.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b)
}

// Stop ends the server at once, as a store that goes away under a running
// export does (SIGKILL: a graceful stop on a loaded machine can take
// seconds, which would blur when the store went away); stopping it again,
// as the test's cleanup does, is a no-op.
func (s S3Server) Stop() error {
	if s.proc == nil {
		return nil
	}
	return s.proc.stop(syscall.SIGKILL, 5*time.Second)
}
