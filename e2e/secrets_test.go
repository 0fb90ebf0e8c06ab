package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/atlas-sdk/v20250312020/admin"
)

// TestSecretsNeverAtRest runs a full flow — API key and service-account
// requests, wrong credentials, a bucket and an export on S3 — then searches
// the database files, the whole log, the metrics and the error bodies for
// every secret: none may appear.
func TestSecretsNeverAtRest(t *testing.T) {
	e := newCrashEnv(t, "")
	writeSecrets(t, e.dir, map[string]string{"sa": saSecret})
	cfg := e.cfg + `serviceAccounts:
  - clientId: ` + saID + `
    clientSecret: file:secrets/sa
    roles: [{role: GROUP_OWNER, groupId: ` + groupID + `}]
`
	sn, _ := e.addSnapshot(t, map[string]int{"shop.orders": 500})
	e.store.Close()
	srv := startServer(t, e.dir, cfg)
	ctx := context.Background()
	c := digestClient(t, srv.url, pubKey, privKey)
	b := val(c.CloudBackupsApi.CreateExportBucket(ctx, groupID, &admin.DiskBackupSnapshotExportBucketRequest{
		CloudProvider: "AWS", BucketName: admin.PtrString("crash-exports"), IamRoleId: admin.PtrString(crashRole)}).Execute()).get(t)
	job := val(c.CloudBackupsApi.CreateBackupExport(ctx, groupID, "Cluster0", &admin.DiskBackupExportJobRequest{
		SnapshotId: sn.ID, ExportBucketId: b.GetId()}).Execute()).get(t)
	waitState(t, c, job.GetId(), 60*time.Second)
	_ = val(oauthClient(t, srv.url, saID, saSecret).CloudBackupsApi.ListExportBuckets(ctx, groupID).Execute()).get(t)

	// A bearer token obtained by hand, used, then revoked.
	token := fetchToken(t, srv.url)
	req, _ := http.NewRequest("GET", srv.url+"/api/atlas/v2/groups/"+groupID+"/backup/exportBuckets", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.atlas.2024-05-30+json")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("bearer request: %v %v", resp, err)
	}

	var evidence bytes.Buffer
	_, _, err := digestClient(t, srv.url, pubKey, privKey+"x").CloudBackupsApi.ListExportBuckets(ctx, groupID).Execute()
	if err == nil {
		t.Fatal("a wrong private key was accepted")
	}
	evidence.WriteString(err.Error())
	for _, path := range []string{"/metrics", "/api/atlas/v2/groups/" + groupID + "/backup/exportBuckets"} {
		resp, err := http.Get(srv.url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		evidence.Write(body)
	}
	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	_ = srv.cmd.Wait()
	evidence.WriteString(srv.logs.String())
	for _, f := range []string{"snapex.db", "snapex.db-wal", "snapex.db-shm"} {
		data, err := os.ReadFile(filepath.Join(e.dir, f))
		if err == nil {
			evidence.Write(data)
		}
	}
	if !strings.Contains(srv.logs.String(), "request") || evidence.Len() < 10_000 {
		t.Fatalf("too little evidence gathered (%d bytes) for the search to mean anything", evidence.Len())
	}
	for name, secret := range map[string]string{
		"API private key": privKey, "service-account secret": saSecret, "bearer token": token,
		"S3 secret key": e.s3.SecretKey,
	} {
		if bytes.Contains(evidence.Bytes(), []byte(secret)) {
			t.Errorf("the %s appears in the database, logs, metrics or error bodies", name)
		}
	}
}

func fetchToken(t *testing.T, base string) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/api/oauth/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(saID, saSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return tok.AccessToken
}
