package e2e

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/snapex/snapex/internal/atlas"
)

var updateGolden = flag.Bool("update", false, "rewrite the CLI golden files under testdata/cli")

// cliRun is one finished run of the snapex binary.
type cliRun struct {
	stdout, stderr string
	code           int
}

// runCLI runs the snapex binary with args and only the given environment
// (plus PATH and HOME), so no profile or MONGODB_ATLAS_* variable of the
// machine leaks in.
func runCLI(t *testing.T, env []string, args ...string) cliRun {
	t.Helper()
	cmd := exec.Command(snapexBinary(t), args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := cliRun{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("snapex %v: %v", args, err)
	}
	return r
}

// ok runs the CLI and requires exit status 0.
func (r cliRun) ok(t *testing.T, what string) string {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", what, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

var (
	goldenID   = regexp.MustCompile(`\b[0-9a-f]{24}\b`)
	goldenTime = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)
	goldenURL  = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)
	goldenSize = regexp.MustCompile(`"storageSizeBytes": \d+`)
	goldenDir  = regexp.MustCompile(`/tmp/[^\s"]+`)
	goldenTag  = regexp.MustCompile(`/\d{4}-\d\d-\d\dT\d{4}/\d+`)
	goldenPad  = regexp.MustCompile(` {2,}`)
)

// normalise replaces what differs between runs (ids, times, the server's
// port, temporary directories, compressed sizes) with fixed placeholders.
func normalise(s string) string {
	s = goldenID.ReplaceAllString(s, "<ID>")
	s = goldenTime.ReplaceAllString(s, "<TIME>")
	s = goldenURL.ReplaceAllString(s, "<URL>")
	s = goldenDir.ReplaceAllString(s, "<DIR>")
	s = goldenTag.ReplaceAllString(s, "/<EXPORT TIME>")
	if !strings.HasPrefix(s, "{") {
		// Table columns padded to widths that the placeholders change.
		s = goldenPad.ReplaceAllString(s, "  ")
	}
	return goldenSize.ReplaceAllString(s, `"storageSizeBytes": <N>`)
}

// golden compares got (normalised) with testdata/cli/name.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "cli", name)
	got = normalise(got)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v (run with -update to create it)", name, err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// lastLine is the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestCLIWorkflow drives `snapex backups …` against a real server and a
// real S3 server: buckets, snapshots and export jobs listed and described
// in table and JSON form against golden files, watch exiting 0 on a
// Successful export and non-zero with the reason on a Failed one, the
// Atlas CLI's environment variables instead of a profile, and the admin
// commands' errors.
func TestCLIWorkflow(t *testing.T) {
	e := startExportEnv(t, expProviders{s3: true})
	dump := t.TempDir()
	writeDump(t, dump, true, replicaSetDump(t)[:1])
	snapID := e.importSnapshot(t, "Cluster0", dump)
	e.s3.CreateBucket(t, "cli-exports")
	e.s3.CreateBucket(t, "cli-doomed")

	profiles := filepath.Join(t.TempDir(), "config.toml")
	profile := `[default]
output = "json"

[local]
public_api_key = "` + pubKey + `"
private_api_key = "` + privKey + `"
project_id = "` + groupID + `"
ops_manager_url = "` + e.srv.url + `"
`
	if err := os.WriteFile(profiles, []byte(profile), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"SNAPEX_CLI_CONFIG=" + profiles}
	cli := func(args ...string) cliRun {
		return runCLI(t, env, append([]string{"backups"}, append(args, "--profile", "local")...)...)
	}

	out := cli("exports", "buckets", "create", "cli-exports", "--cloudProvider", "AWS", "--iamRoleId", expS3Role, "-o", "go-template={{.Id}}").ok(t, "buckets create")
	bucketID := strings.TrimSpace(out)
	if !atlas.ValidObjectID(bucketID) {
		t.Fatalf("buckets create printed %q", out)
	}
	doomed := strings.TrimSpace(cli("exports", "buckets", "create", "cli-doomed", "--cloudProvider", "aws", "--iamRoleId", expS3Role, "-o", "go-template={{.Id}}").ok(t, "buckets create"))

	golden(t, "buckets-list.txt", cli("exports", "buckets", "list").ok(t, "buckets list"))
	golden(t, "buckets-list.json", cli("exports", "buckets", "list", "-o", "json").ok(t, "buckets list json"))
	golden(t, "buckets-describe.txt", cli("exports", "buckets", "describe", "--bucketId", bucketID).ok(t, "buckets describe"))
	golden(t, "snapshots-list.txt", cli("snapshots", "list", "Cluster0").ok(t, "snapshots list"))
	golden(t, "snapshots-describe.txt", cli("snapshots", "describe", snapID, "--clusterName", "Cluster0").ok(t, "snapshots describe"))
	golden(t, "snapshots-describe.json", cli("snapshots", "describe", snapID, "--clusterName", "Cluster0", "-o", "json").ok(t, "snapshots describe json"))

	// An export that succeeds: watch exits 0 and ends on Successful.
	out = cli("exports", "jobs", "create", "--clusterName", "Cluster0", "--bucketId", bucketID, "--snapshotId", snapID,
		"--customData", "team=data,ticket=42", "-o", "go-template={{.Id}}").ok(t, "jobs create")
	jobID := strings.TrimSpace(out)
	w := cli("exports", "jobs", "watch", jobID, "--clusterName", "Cluster0", "--interval", "100ms")
	watched := w.ok(t, "jobs watch")
	if last := lastLine(watched); !strings.HasPrefix(last, "export job "+jobID+": Successful, 1/1 collections exported, ") || !strings.Contains(last, "(100%)") {
		t.Fatalf("watch of a successful export printed:\n%s", watched)
	}
	golden(t, "jobs-list.txt", cli("exports", "jobs", "list", "Cluster0").ok(t, "jobs list"))
	golden(t, "jobs-describe.txt", cli("exports", "jobs", "describe", "--clusterName", "Cluster0", "--exportId", jobID).ok(t, "jobs describe"))
	golden(t, "jobs-describe.json", cli("exports", "jobs", "describe", "--clusterName", "Cluster0", "--exportId", jobID, "-o", "json").ok(t, "jobs describe json"))

	// An export into a bucket removed from the store fails: watch exits
	// non-zero and prints the state reason.
	emptyS3Bucket(t, e, "cli-doomed")
	failing := strings.TrimSpace(cli("exports", "jobs", "create", "--clusterName", "Cluster0", "--bucketId", doomed, "--snapshotId", snapID, "-o", "go-template={{.Id}}").ok(t, "jobs create"))
	w = cli("exports", "jobs", "watch", failing, "--clusterName", "Cluster0", "--interval", "100ms")
	final := val(e.api.CloudBackupsApi.GetBackupExport(context.Background(), groupID, "Cluster0", failing).Execute()).get(t)
	sr := final.GetStateReason()
	reason := sr.GetMessage()
	if w.code == 0 || final.GetState() != "Failed" || reason == "" {
		t.Fatalf("watch of a failing export: exit %d, job %s %q\nstdout:\n%s\nstderr:\n%s", w.code, final.GetState(), reason, w.stdout, w.stderr)
	}
	if !strings.Contains(w.stdout, "export job "+failing+": Failed") || !strings.Contains(w.stderr, reason) {
		t.Fatalf("watch of a failed export does not show the state and reason %q:\nstdout:\n%s\nstderr:\n%s", reason, w.stdout, w.stderr)
	}

	// The Atlas CLI's environment variables alone reach the server, with
	// the default (json) output of the profiles file left out of play.
	atlasEnv := []string{"XDG_CONFIG_HOME=" + t.TempDir(),
		"MONGODB_ATLAS_PUBLIC_API_KEY=" + pubKey, "MONGODB_ATLAS_PRIVATE_API_KEY=" + privKey,
		"MONGODB_ATLAS_PROJECT_ID=" + groupID, "MONGODB_ATLAS_OPS_MANAGER_URL=" + e.srv.url + "/"}
	got := runCLI(t, atlasEnv, "backups", "exports", "jobs", "list", "Cluster0", "-o", "go-template={{range .Results}}{{.Id}} {{.State}}\n{{end}}").ok(t, "jobs list via MONGODB_ATLAS_*")
	if !strings.Contains(got, jobID+" Successful\n") || !strings.Contains(got, failing+" Failed\n") {
		t.Fatalf("jobs list through MONGODB_ATLAS_* printed:\n%s", got)
	}
	bad := runCLI(t, append(atlasEnv, "MONGODB_ATLAS_PRIVATE_API_KEY=wrong"), "backups", "snapshots", "list", "Cluster0")
	if bad.code == 0 || !strings.Contains(bad.stderr, "HTTP 401") {
		t.Fatalf("wrong key: exit %d, stderr %q", bad.code, bad.stderr)
	}

	// Admin commands: flags after the positional argument, and errors that
	// say what was wrong.
	unknown := atlas.NewObjectID(time.Now())
	r := runCLI(t, os.Environ(), "export", "cancel", unknown, "--config", e.config)
	if r.code == 0 || !strings.Contains(r.stderr, "no export job "+unknown) || strings.Contains(r.stderr, "store:") {
		t.Fatalf("cancel of an unknown export: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, os.Environ(), "snapshot", "import", t.TempDir(), "--config", e.config, "--project", groupID, "--cluster", "Cluster0")
	if r.code == 0 || !strings.Contains(r.stderr, "holds no collections") {
		t.Fatalf("import of an empty directory: exit %d, stderr %q", r.code, r.stderr)
	}
}

// emptyS3Bucket deletes a bucket and everything in it from the S3 server.
func emptyS3Bucket(t *testing.T, e *expEnv, name string) {
	t.Helper()
	ctx := context.Background()
	c := e.s3.Client()
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
}

// TestCLIHelpAndConfigCheck: --help exits 0 at every level of the command
// tree, and `config check` reports every problem of a broken config.
func TestCLIHelpAndConfigCheck(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"serve", "--help"}, {"init", "--help"}, {"snapshot", "import", "--help"},
		{"export", "cancel", "--help"}, {"config", "check", "--help"}, {"version", "--help"}, {"backups", "--help"},
		{"backups", "snapshots", "watch", "--help"}, {"backups", "exports", "buckets", "create", "--help"}, {"backups", "exports", "jobs", "create", "-h"},
		{"backups", "schedule", "update", "--help"}} {
		r := runCLI(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("snapex %v: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := runCLI(t, nil, "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "snapex ") || strings.HasPrefix(r.stdout, "snapex dev") {
		t.Errorf("snapex version: exit %d, %q", r.code, r.stdout)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "snapex.yaml")
	if err := os.WriteFile(cfg, []byte("listn: 127.0.0.1:1\nrateLimit: {requestsPerMinut: 5}\nexports: {chunkMiB: many}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runCLI(t, nil, "config", "check", "--config", cfg)
	if r.code == 0 {
		t.Fatalf("config check of a broken config exited 0:\n%s", r.stderr)
	}
	// Each problem on its own line, in line order, with the path and a
	// suggestion.
	last := -1
	for _, want := range []string{
		":1: listn: unknown field `listn`; did you mean `listen`?",
		":1: organizations: at least one organization is required",
		":2: rateLimit.requestsPerMinut: unknown field `requestsPerMinut`; did you mean `requestsPerMinute`?",
		":3: exports.chunkMiB: must be a whole number",
	} {
		i := strings.Index(r.stderr, want)
		if i < 0 || i < last {
			t.Fatalf("config check output lacks %q in line order:\n%s", want, r.stderr)
		}
		last = i
	}
}
