package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/config"
)

const valid = `database: snapex.db
organizations:
  - id: a0000000000000000000000a
    name: Org
    projects:
      - id: 100000000000000000000001
        name: P
        clusters:
          - name: Cluster0
            replicaSets: [{name: rs0, uri: "mongodb://127.0.0.1:27017"}]
        accessRoles:
          - id: c00000000000000000000001
            provider: AWS
            aws: {accessKeyId: AKIA, secretAccessKey: env:TEST_S3_SECRET, region: eu-west-1}
          - {id: c00000000000000000000002, provider: GCP, local: {directory: buckets}}
apiKeys:
  - publicKey: abcdefgh
    privateKey: file:key.txt
    roles: [{role: ORG_OWNER, orgId: a0000000000000000000000a}]
`

func write(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "key.txt"), []byte("secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "snapex.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadValid(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	p := write(t, valid)
	cfg, err := config.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Database.Value() != filepath.Join(filepath.Dir(p), "snapex.db") {
		t.Fatalf("defaults: %q %q", cfg.Listen, cfg.Database.Value())
	}
	if got := cfg.APIKeys[0].PrivateKey.Value(); got != "secret-value" {
		t.Fatalf("file secret: %q", got)
	}
	if s := cfg.APIKeys[0].PrivateKey.String(); strings.Contains(s, "secret-value") {
		t.Fatalf("String leaks the secret: %q", s)
	}
	cat := cfg.Catalog()
	role, ok := cat.AccessRole("100000000000000000000001", "c00000000000000000000001")
	if !ok || role.AWS.SecretAccessKey.Value() != "s3-secret" {
		t.Fatalf("access role: %+v", role)
	}
	if local, _ := cat.AccessRole("100000000000000000000001", "c00000000000000000000002"); local.Local.Directory != filepath.Join(filepath.Dir(p), "buckets") {
		t.Fatalf("local dir not anchored: %s", local.Local.Directory)
	}
	cl, ok := cat.Cluster("100000000000000000000001", "Cluster0")
	if !ok || cl.Type != "REPLICASET" || cat.ReplicaSetURI(cl.GroupID, "Cluster0", "rs0") != "mongodb://127.0.0.1:27017" {
		t.Fatalf("cluster: %+v", cl)
	}
	if p, ok := cat.Project("100000000000000000000001"); !ok || p.OrgID != "a0000000000000000000000a" {
		t.Fatalf("project: %+v", p)
	}
}

func TestLoadErrorsNameFileAndLine(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	cases := []struct {
		name, from, to string
		line           int
		want           string
	}{
		{"bad org id", "id: a0000000000000000000000a", "id: nothex", 3, "24 lowercase hex"},
		{"bad cluster type", "- name: Cluster0\n", "- name: Cluster0\n            type: REPLICA\n", 10, "REPLICASET or SHARDED"},
		{"bad cluster name", "name: Cluster0", "name: -bad", 9, "cluster name"},
		{"literal private key", "privateKey: file:key.txt", "privateKey: hunter2", 18, "references"},
		{"missing env", "env:TEST_S3_SECRET", "env:NOT_SET_ANYWHERE", 14, "NOT_SET_ANYWHERE"},
		{"password in uri", "mongodb://127.0.0.1:27017", "mongodb://u:pw@127.0.0.1:27017", 10, "password"},
		{"bad public key", "publicKey: abcdefgh", "publicKey: ABC", 17, "8 lowercase letters"},
		{"org role without org", "{role: ORG_OWNER, orgId: a0000000000000000000000a}", "{role: ORG_OWNER, groupId: 100000000000000000000001}", 19, "organization role"},
		{"unknown role", "role: ORG_OWNER", "role: SUPERUSER", 19, "unknown role"},
		{"role in unknown org", "orgId: a0000000000000000000000a}]", "orgId: b0000000000000000000000b}]", 19, "no organization"},
		{"bad provider", "provider: GCP", "provider: IBM", 15, "AWS, AZURE or GCP"},
		{"two backends", "local: {directory: buckets}", "local: {directory: buckets}, gcp: {}", 15, "exactly one"},
		{"unknown field", "name: Org\n", "name: Org\n    colour: blue\n", 5, "colour"},
		{"tuning out of range", "database: snapex.db\n", "database: snapex.db\nexports: {chunkMiB: 99999}\n", 2, "between 1 and 4096"},
		{"memory limit too small", "database: snapex.db\n", "database: snapex.db\nmemoryLimitMiB: 16\n", 2, "memoryLimitMiB: must be between 64 and 1048576"},
		{"rate limit out of range", "database: snapex.db\n", "database: snapex.db\nrateLimit: {requestsPerMinute: -5}\n", 2, "requestsPerMinute"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(valid, c.from) {
				t.Fatalf("fixture lacks %q", c.from)
			}
			p := write(t, strings.Replace(valid, c.from, c.to, 1))
			_, err := config.Load(p)
			if err == nil {
				t.Fatal("loaded an invalid config")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not say %q", msg, c.want)
			}
			wantLoc := p + ":" + itoa(c.line)
			if !strings.Contains(msg, wantLoc) {
				t.Fatalf("error %q does not point at %s", msg, wantLoc)
			}
		})
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return fmtInt(n/10) + string(rune('0'+n%10))
}
