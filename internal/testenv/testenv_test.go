package testenv

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestMain(m *testing.M) { RunMain(m) }

// testCtx returns a context bounded to a minute and cancelled with the test.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// portClosed reports whether nothing accepts connections on addr.
func portClosed(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// assertGone fails when the process still runs or addr still accepts
// connections.
func assertGone(t *testing.T, p *process, addr string) {
	t.Helper()
	if p != nil && !p.exited() {
		t.Errorf("%s still running after cleanup", p.name)
	}
	if !portClosed(addr) {
		t.Errorf("%s still accepts connections after cleanup", addr)
	}
}

func TestPostgres(t *testing.T) {
	var dsn string
	t.Run("roundtrip", func(t *testing.T) {
		ctx := testCtx(t)
		dsn = Postgres(t)
		if !strings.HasPrefix(dsn, "postgres://postgres@127.0.0.1:") || !strings.HasSuffix(dsn, "?sslmode=disable") {
			t.Fatalf("unexpected DSN form %q", dsn)
		}
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)`); err != nil {
			t.Fatalf("create table: %v", err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO items VALUES (1, 'snapex ✓')`); err != nil {
			t.Fatalf("insert: %v", err)
		}
		var name string
		if err := conn.QueryRow(ctx, `SELECT name FROM items WHERE id = 1`).Scan(&name); err != nil {
			t.Fatalf("select: %v", err)
		}
		if name != "snapex ✓" {
			t.Fatalf("read back %q, want %q", name, "snapex ✓")
		}

		other := Postgres(t)
		if other == dsn {
			t.Fatalf("second call returned the same DSN %q", dsn)
		}
		conn2, err := pgx.Connect(ctx, other)
		if err != nil {
			t.Fatalf("connect second database: %v", err)
		}
		defer conn2.Close(ctx)
		var tables int
		if err := conn2.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE schemaname = 'public'`).Scan(&tables); err != nil {
			t.Fatalf("count tables: %v", err)
		}
		if tables != 0 {
			t.Fatalf("second database has %d tables, want a fresh one", tables)
		}
	})
	if t.Failed() {
		return
	}

	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("parse DSN: %v", err)
	}
	ctx := testCtx(t)
	conn, err := pgx.Connect(ctx, shared.srv.dsn("postgres"))
	if err != nil {
		t.Fatalf("connect maintenance database: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	db := strings.TrimPrefix(u.Path, "/")
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_database WHERE datname = $1`, db).Scan(&n); err != nil {
		t.Fatalf("look up database: %v", err)
	}
	if n != 0 {
		t.Errorf("database %s still exists after the test's cleanup", db)
	}
}

func TestPostgresParallel(t *testing.T) {
	seen := make(chan string, 8)
	t.Run("group", func(t *testing.T) {
		for i := range cap(seen) {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				ctx := testCtx(t)
				dsn := Postgres(t)
				conn, err := pgx.Connect(ctx, dsn)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer conn.Close(ctx)
				if _, err := conn.Exec(ctx, `CREATE TABLE t (id int)`); err != nil {
					t.Fatalf("create table in a fresh database: %v", err)
				}
				seen <- dsn
			})
		}
	})
	close(seen)
	unique := map[string]bool{}
	for dsn := range seen {
		unique[dsn] = true
	}
	if len(unique) != cap(seen) {
		t.Errorf("got %d distinct databases, want %d", len(unique), cap(seen))
	}
}

func TestPostgresServerStops(t *testing.T) {
	s, err := startPostgres()
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	if err := s.exec(ctx, "CREATE DATABASE probe"); err != nil {
		s.stop()
		t.Fatalf("use server: %v", err)
	}
	if err := s.stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	assertGone(t, s.proc, hostPort(s.port))
	if _, err := os.Stat(s.base); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("server directory %s not removed (stat: %v)", s.base, err)
	}
}

func TestSweepStalePostgres(t *testing.T) {
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatalf("run true: %v", err)
	}
	stale := makeOwnedDir(t, done.Process.Pid)
	live := makeOwnedDir(t, os.Getpid())
	sweepStalePostgres()
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory of a dead owner %s was kept", stale)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("directory of a live owner was removed: %v", err)
	}
}

// makeOwnedDir creates a PostgreSQL server directory owned by pid.
func makeOwnedDir(t *testing.T, pid int) string {
	t.Helper()
	dir, err := os.MkdirTemp("", pgDirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, pgOwnerFile), []byte(strconv.Itoa(pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVersityGW(t *testing.T) {
	var s S3Server
	t.Run("roundtrip", func(t *testing.T) {
		ctx := testCtx(t)
		s = VersityGW(t)
		s.CreateBucket(t, "snapex-test")
		c := s.Client()
		body := []byte("hello from versitygw")
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String("snapex-test"), Key: aws.String("a/b.txt"), Body: bytes.NewReader(body),
		})
		if err != nil {
			t.Fatalf("put: %v", err)
		}
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("snapex-test"), Key: aws.String("a/b.txt")})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		defer got.Body.Close()
		if data, err := io.ReadAll(got.Body); err != nil || !bytes.Equal(data, body) {
			t.Fatalf("read back %q (%v), want %q", data, err, body)
		}

		wrong := s
		wrong.SecretKey = "not-the-secret"
		_, err = wrong.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("snapex-test"), Key: aws.String("a/b.txt")})
		var re *awshttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
			t.Fatalf("wrong secret: got %v, want HTTP 403", err)
		}
	})
	if s.proc != nil {
		assertGone(t, s.proc, hostPort(s.port))
	}
}

func TestAzurite(t *testing.T) {
	var s AzuriteServer
	t.Run("roundtrip", func(t *testing.T) {
		ctx := testCtx(t)
		s = Azurite(t)
		s.CreateContainer(t, "snapex-test")
		c, err := s.Client()
		if err != nil {
			t.Fatal(err)
		}
		body := []byte("hello from azurite")
		if _, err := c.UploadBuffer(ctx, "snapex-test", "a/b.txt", body, nil); err != nil {
			t.Fatalf("upload: %v", err)
		}
		got, err := c.DownloadStream(ctx, "snapex-test", "a/b.txt", nil)
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		defer got.Body.Close()
		if data, err := io.ReadAll(got.Body); err != nil || !bytes.Equal(data, body) {
			t.Fatalf("read back %q (%v), want %q", data, err, body)
		}

		cred, err := azblob.NewSharedKeyCredential(s.AccountName, "d3Jvbmcga2V5")
		if err != nil {
			t.Fatal(err)
		}
		wrong, err := azblob.NewClientWithSharedKeyCredential(s.ServiceURL+"/", cred, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = wrong.DownloadStream(ctx, "snapex-test", "a/b.txt", nil)
		if !bloberror.HasCode(err, bloberror.AuthorizationFailure, bloberror.AuthenticationFailed) {
			t.Fatalf("wrong key: got %v, want an authentication failure", err)
		}
	})
	if s.proc != nil {
		assertGone(t, s.proc, hostPort(s.port))
	}
}

func TestFakeGCS(t *testing.T) {
	var s GCSServer
	t.Run("roundtrip", func(t *testing.T) {
		ctx := testCtx(t)
		s = FakeGCS(t)
		s.CreateBucket(t, "snapex-test")
		c, err := s.Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		body := []byte("hello from fake-gcs-server")
		w := c.Bucket("snapex-test").Object("a/b.txt").NewWriter(ctx)
		if _, err := w.Write(body); err != nil {
			t.Fatalf("write: %v", err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("close writer: %v", err)
		}
		r, err := c.Bucket("snapex-test").Object("a/b.txt").NewReader(ctx)
		if err != nil {
			t.Fatalf("open reader: %v", err)
		}
		defer r.Close()
		if data, err := io.ReadAll(r); err != nil || !bytes.Equal(data, body) {
			t.Fatalf("read back %q (%v), want %q", data, err, body)
		}
		_, err = c.Bucket("snapex-test").Object("missing").Attrs(ctx)
		if !errors.Is(err, storage.ErrObjectNotExist) {
			t.Fatalf("missing object: got %v, want ErrObjectNotExist", err)
		}
	})
	if s.Host != "" {
		assertGone(t, nil, s.Host)
	}
}

func TestFerretDB(t *testing.T) {
	var uri string
	t.Run("roundtrip", func(t *testing.T) {
		ctx := testCtx(t)
		uri = FerretDB(t)
		c, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		defer c.Disconnect(ctx)
		coll := c.Database("snapex").Collection("items")
		if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "name", Value: "snapex"}}); err != nil {
			t.Fatalf("insert: %v", err)
		}
		var got struct {
			ID   int    `bson:"_id"`
			Name string `bson:"name"`
		}
		if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&got); err != nil {
			t.Fatalf("find: %v", err)
		}
		if got.ID != 1 || got.Name != "snapex" {
			t.Fatalf("found %+v, want {1 snapex}", got)
		}
	})
	if uri == "" {
		return
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatalf("parse URI %q: %v", uri, err)
	}
	assertGone(t, nil, u.Host)
}

func TestTool(t *testing.T) {
	doc, err := bson.Marshal(bson.D{{Key: "a", Value: int32(1)}, {Key: "s", Value: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "docs.bson")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Tool(t, "bsondump"), "--quiet", file).Output()
	if err != nil {
		t.Fatalf("bsondump: %v", err)
	}
	want := `{"a":{"$numberInt":"1"},"s":"x"}` + "\n"
	if string(out) != want {
		t.Fatalf("bsondump printed %q, want %q", out, want)
	}
	for _, name := range mongoTools {
		if p := Tool(t, name); !isExecutable(p) {
			t.Errorf("Tool(%q) = %s, not an executable", name, p)
		}
	}
}

func TestMissingBinaryNamesInstallCommand(t *testing.T) {
	_, err := findBinary("snapex-no-such-program", false)
	if err == nil || !strings.Contains(err.Error(), installHint) {
		t.Fatalf("error %v does not name %s", err, installHint)
	}
}
