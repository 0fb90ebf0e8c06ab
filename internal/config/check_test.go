package config_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/config"
)

// TestCheckReportsEveryProblemInLineOrder feeds a config with five
// different mistakes and expects five reports, in line order, each naming
// the line, the YAML path and what is wrong, with a suggestion for typos.
func TestCheckReportsEveryProblemInLineOrder(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	body := `database: snapex.db
listn: 127.0.0.1:9090
exports: {chunkMiB: lots}
organizations:
  - id: a0000000000000000000000a
    name: Org
    projects:
      - id: 100000000000000000000001
        name: P
        clusters:
          - name: Cluster0
            replicaSets:
              - name: rs0
                uri: [mongodb://127.0.0.1:27017]
        accessRoles:
          - id: c00000000000000000000001
            provider: AWS
            aws: {accessKeyId: AKIA, secretAccessKey: env:TEST_S3_SECRET, region: eu-west-1, usePathstyle: true}
apiKeys:
  - publicKey: abcdefgh
    privateKey: file:key.txt
    roles: [{role: ORG_OWNR, orgId: a0000000000000000000000a}]
`
	p := write(t, body)
	err := config.Check(p)
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Check = %v, want config.Errors", err)
	}
	want := []struct {
		line     int
		path     string
		contains []string
	}{
		{2, "listn", []string{"unknown field `listn`", "did you mean `listen`?"}},
		{3, "exports.chunkMiB", []string{"whole number", `"lots"`}},
		{14, "organizations[0].projects[0].clusters[0].replicaSets[0].uri", []string{"single value", "not a list"}},
		{18, "organizations[0].projects[0].accessRoles[0].aws.usePathstyle", []string{"did you mean `usePathStyle`?"}},
		{22, "apiKeys[0].roles[0].role", []string{"ORG_OWNR"}},
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(errs), len(want), err)
	}
	for i, w := range want {
		e := errs[i]
		if e.Line != w.line || e.Path != w.path || e.File != p {
			t.Errorf("problem %d at %s:%d %s, want line %d %s", i, e.File, e.Line, e.Path, w.line, w.path)
		}
		for _, c := range w.contains {
			if !strings.Contains(e.Msg, c) {
				t.Errorf("problem %d message %q lacks %q", i, e.Msg, c)
			}
		}
		for _, goType := range []string{"[]string", "config.", "int", "struct"} {
			if strings.Contains(e.Msg, goType) {
				t.Errorf("problem %d message %q names a Go type (%s)", i, e.Msg, goType)
			}
		}
	}
}

// TestCheckAcceptsValidConfig: a config Load accepts passes Check.
func TestCheckAcceptsValidConfig(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	if err := config.Check(write(t, valid)); err != nil {
		t.Fatalf("Check(valid) = %v", err)
	}
}

// TestCheckDuplicateKey: a field given twice is reported at its second
// occurrence, naming the first.
func TestCheckDuplicateKey(t *testing.T) {
	t.Setenv("TEST_S3_SECRET", "s3-secret")
	p := write(t, strings.Replace(valid, "database: snapex.db\n", "database: snapex.db\nlisten: 127.0.0.1:1\nlisten: 127.0.0.1:2\n", 1))
	var errs config.Errors
	if err := config.Check(p); !errors.As(err, &errs) || len(errs) != 1 || errs[0].Line != 3 || errs[0].Path != "listen" ||
		!strings.Contains(errs[0].Msg, "given twice (first on line 2)") {
		t.Fatalf("Check(duplicate key) = %v", err)
	}
}

// TestCheckSyntaxError names the file and the line of a YAML syntax error.
func TestCheckSyntaxError(t *testing.T) {
	p := write(t, "listen: [unclosed\n")
	err := config.Check(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "line") {
		t.Fatalf("Check(syntax error) = %v", err)
	}
}
