package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgDirPrefix names the temporary directories of PostgreSQL servers; stale
// ones are swept by later runs.
const pgDirPrefix = "snapex-testenv-pg-"

// pgOwnerFile records, inside a server directory, the pid of the test binary
// that owns it.
const pgOwnerFile = "owner.pid"

// pgServer is a PostgreSQL server in a temporary directory.
type pgServer struct {
	base string // temporary directory; data lives in base/data
	port int
	proc *process
}

var shared struct {
	once sync.Once
	srv  *pgServer
	err  error
}

// dbCounter makes database names unique within the test binary.
var dbCounter atomic.Int64

// Postgres returns the DSN of a new, empty database on the PostgreSQL server
// shared by the test binary, in the form
// postgres://postgres@127.0.0.1:PORT/DBNAME?sslmode=disable. The server
// starts on first use; the database is dropped when the test ends. Packages
// using it should call RunMain from TestMain so the server stops at the end.
func Postgres(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() {
		shared.srv, shared.err = startPostgres()
		if shared.err == nil {
			onShutdown(func() { _ = shared.srv.stop() })
		}
	})
	if shared.err != nil {
		t.Fatalf("testenv: PostgreSQL: %v", shared.err)
	}
	name := databaseName(t.Name())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := shared.srv.exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("testenv: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := shared.srv.exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		if err != nil {
			t.Logf("testenv: drop database %s: %v", name, err)
		}
	})
	return shared.srv.dsn(name)
}

var nonIdent = regexp.MustCompile(`[^a-z0-9]+`)

// databaseName derives a unique database name from a test name.
func databaseName(testName string) string {
	slug := nonIdent.ReplaceAllString(strings.ToLower(testName), "_")
	if len(slug) > 40 {
		slug = slug[:40]
	}
	return fmt.Sprintf("t%d_%s", dbCounter.Add(1), strings.Trim(slug, "_"))
}

// dsn returns the connection string of database db.
func (s *pgServer) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", hostPort(s.port), db)
}

// exec runs one statement in the maintenance database "postgres".
func (s *pgServer) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// startPostgres creates a cluster with initdb in a new temporary directory
// and starts a server on a free port. As root, both run as the postgres user.
func startPostgres() (*pgServer, error) {
	sweepStalePostgres()
	binDir, err := postgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		return nil, err
	}
	base, err := os.MkdirTemp("", pgDirPrefix)
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s, err := initAndLaunch(binDir, base, cred)
	if err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	return s, nil
}

// initAndLaunch prepares base, runs initdb and starts the server.
func initAndLaunch(binDir, base string, cred *syscall.Credential) (*pgServer, error) {
	owner := []byte(strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(filepath.Join(base, pgOwnerFile), owner, 0o644); err != nil {
		return nil, fmt.Errorf("write owner file: %w", err)
	}
	if cred != nil {
		if err := os.Chown(base, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s to postgres: %w", base, err)
		}
	}
	data := filepath.Join(base, "data")
	initdb := pgCommand(binDir, "initdb", base, cred,
		"-D", data, "-U", "postgres", "--auth=trust", "--no-sync",
		"-E", "UTF8", "--locale=C", "--no-instructions")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w; output:\n%s", err, out)
	}
	newCmd := func(port int) *exec.Cmd {
		return pgCommand(binDir, "postgres", base, cred,
			"-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
			"-c", "unix_socket_directories=", "-c", "fsync=off",
			"-c", "synchronous_commit=off", "-c", "full_page_writes=off",
			"-c", "max_connections=300")
	}
	probe := func(port int) error {
		return (&pgServer{port: port}).exec(context.Background(), "SELECT 1")
	}
	proc, port, err := launch("postgres", time.Minute, newCmd, probe)
	if err != nil {
		return nil, err
	}
	return &pgServer{base: base, port: port, proc: proc}, nil
}

// pgCommand builds a command for a PostgreSQL program, run in dir and, when
// cred is set, as that user.
func pgCommand(binDir, prog, dir string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(binDir, prog), args...)
	cmd.Dir = dir // the postgres user may not be able to enter the caller's directory
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	return cmd
}

// stop shuts the server down (fast mode) and removes its directory.
func (s *pgServer) stop() error {
	err := s.proc.stop(syscall.SIGINT, 30*time.Second)
	if rmErr := os.RemoveAll(s.base); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove %s: %w", s.base, rmErr))
	}
	return err
}

// postgresCredential returns the postgres user's credential when running as
// root (PostgreSQL refuses to run as root), or nil otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user to run the server (install the postgresql package: %s): %w", installHint, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse uid of postgres: %w", err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("parse gid of postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, nil
}

// postgresBinDir finds a directory holding initdb and postgres: Debian's
// version 15 first, then the one of initdb on PATH, then other versions,
// newest first.
func postgresBinDir() (string, error) {
	candidates := []string{"/usr/lib/postgresql/15/bin"}
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			candidates = append(candidates, filepath.Dir(real))
		}
	}
	others, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(others, func(i, j int) bool { return pgVersion(others[i]) > pgVersion(others[j]) })
	candidates = append(candidates, others...)
	for _, dir := range candidates {
		if isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	return "", fmt.Errorf("initdb and postgres not found in %s or on PATH; install them with: %s",
		strings.Join(candidates, ", "), installHint)
}

// pgVersion extracts the major version from /usr/lib/postgresql/N/bin.
func pgVersion(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// sweepStalePostgres removes the directories of servers whose test binary
// is gone, killing a server that survived it. Best effort.
func sweepStalePostgres() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), pgDirPrefix+"*"))
	for _, dir := range dirs {
		owner, err := readPid(filepath.Join(dir, pgOwnerFile))
		if err != nil || processAlive(owner) {
			continue
		}
		data := filepath.Join(dir, "data")
		if pid, err := readPid(filepath.Join(data, "postmaster.pid")); err == nil && processUses(pid, data) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		_ = os.RemoveAll(dir)
	}
}

// readPid reads the number on the first line of a pid file.
func readPid(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("parse pid file %s: %w", path, err)
	}
	return pid, nil
}

// processAlive reports whether a process with this pid exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// processUses reports whether the command line of pid mentions path, so a
// reused pid is never killed by mistake.
func processUses(pid int, path string) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(b), path)
}
