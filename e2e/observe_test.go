package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/icholy/digest"
	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestWatchRunningExportAndObserve drives the real binary: an export into
// S3 (each upload delayed so that it runs for seconds) is watched with
// `snapex backups exports jobs watch`, whose lines show documents growing
// and which exits 0 on Successful; then /metrics counts the job, /ui
// shows it with its bucket and prefix, and the server's log names the
// config file, the key that created the job, and the job's start and end.
func TestWatchRunningExportAndObserve(t *testing.T) {
	e := newCrashEnv(t, "")
	target, err := url.Parse(e.s3.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(target)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			time.Sleep(250 * time.Millisecond)
		}
		forward.ServeHTTP(w, r)
	}))
	defer slow.Close()
	srv := startServer(t, e.dir, crashConfig("snapex.db", slow.URL))
	c := digestClient(t, srv.url, pubKey, privKey)
	ctx := context.Background()
	sn, _ := e.addSnapshot(t, map[string]int{"shop.orders": 12000})
	b := val(c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	job := val(c.CloudBackupsApi.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: sn.ID, ExportBucketId: b.GetId()}).Execute()).get(t)

	env := []string{"XDG_CONFIG_HOME=" + t.TempDir(),
		"MONGODB_ATLAS_PUBLIC_API_KEY=" + pubKey, "MONGODB_ATLAS_PRIVATE_API_KEY=" + privKey,
		"MONGODB_ATLAS_PROJECT_ID=" + groupID, "MONGODB_ATLAS_OPS_MANAGER_URL=" + srv.url + "/"}
	out := runCLI(t, env, "backups", "exports", "jobs", "watch", job.GetId(), "--clusterName", "Cluster0", "--interval", "100ms").ok(t, "jobs watch")
	docsRe := regexp.MustCompile(`, ([0-9,]+)/12,000 documents`)
	var seen []int
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		m := docsRe.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(m[1], ",", ""))
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) > 0 && n < seen[len(seen)-1] {
			t.Fatalf("watch showed documents going back (%v then %d):\n%s", seen, n, out)
		}
		seen = append(seen, n)
	}
	distinct := map[int]bool{}
	for _, n := range seen {
		if n > 0 && n < 12000 {
			distinct[n] = true
		}
	}
	if len(distinct) < 2 || seen[len(seen)-1] != 12000 {
		t.Fatalf("watch did not show the export's documents growing to 12,000 (%v):\n%s", seen, out)
	}
	if !strings.Contains(out, "/s") || !strings.HasPrefix(lastLine(out), "export job "+job.GetId()+": Successful") {
		t.Fatalf("watch shows no rate, or does not end on Successful:\n%s", out)
	}

	scrape := get(t, http.DefaultClient, srv.url+"/metrics")
	for _, want := range []string{`snapex_jobs_ended_total{kind="export",outcome="succeeded"} 1`, `snapex_jobs{kind="export",state="Successful"} 1`,
		`snapex_job_attempts_total{kind="export"} 1`, `snapex_job_documents_total{kind="export"} 12000`, `snapex_job_queue_depth{kind="export"} 0`} {
		if !strings.Contains(scrape, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	ui := get(t, &http.Client{Transport: &digest.Transport{Username: pubKey, Password: privKey}}, srv.url+"/ui")
	for _, want := range []string{job.GetId(), "AWS crash-exports", job.GetPrefix(), "Successful"} {
		if !strings.Contains(ui, want) {
			t.Errorf("/ui lacks %q", want)
		}
	}
	logs := srv.logs.String()
	for _, want := range []string{`"msg":"snapex serving"`, `"config":"` + e.dir, `"caller":"apiKey:` + pubKey + `"`,
		`"msg":"job attempt","kind":"export","job":"` + job.GetId(), `"msg":"job ended","kind":"export","job":"` + job.GetId() + `","outcome":"succeeded","took":"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("server log lacks %s", want)
		}
	}
	if strings.Contains(logs, `"level":"INFO","msg":"River`) || strings.Contains(logs, `"level":"INFO","msg":"Client`) {
		t.Errorf("River's routine messages reach INFO:\n%s", logs)
	}
}

// get fetches url and returns the body of a 200 answer.
func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", url, resp.StatusCode, b)
	}
	return string(b)
}
