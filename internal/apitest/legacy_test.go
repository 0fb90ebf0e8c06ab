package apitest

import (
	"net/http"
	"strings"
	"testing"
)

func TestCheckLegacy(t *testing.T) {
	const bucketPath = "/api/atlas/v1.0/groups/100000000000000000000001/backup/exportBuckets/6b135989d7decb183977aa91"
	const jobPath = "/api/atlas/v1.0/groups/100000000000000000000001/clusters/Cluster0/backup/exports/6b135989d7decb183977aa91"
	good := `{"_id":"6b135989d7decb183977aa91","bucketName":"bkt","cloudProvider":"AWS","iamRoleId":"c00000000000000000000001"}`
	job := `{"createdAt":"2026-08-10T03:27:08Z","customData":[],"exportBucketId":"6b135989d7decb183977aa91","exportStatus":{"exportedCollections":0,"totalCollections":0},"id":"6b135989d7decb183977aa91","prefix":"p","snapshotId":"6b135989d7decb183977aa91","state":"Failed",%s}`
	cases := []struct {
		name, path, ct, body string
		status               int
		wantErr              string
	}{
		{"valid bucket", bucketPath, "application/json", good, 200, ""},
		{"vendor type on v1.0", bucketPath, "application/vnd.atlas.2023-01-01+json;charset=utf-8", good, 200, "want application/json"},
		{"bucket missing _id", bucketPath, "application/json", `{"bucketName":"bkt","cloudProvider":"AWS","iamRoleId":"x"}`, 200, "does not match"},
		{"job with errMsg", jobPath, "application/json", strings.Replace(job, "%s", `"errMsg":"boom"`, 1), 200, ""},
		{"job with stateReason", jobPath, "application/json", strings.Replace(job, "%s", `"stateReason":{"errorCode":"X","message":"boom"}`, 1), 200, "stateReason"},
		{"error body", bucketPath, "application/json", `{"detail":"d","error":404,"errorCode":"EXPORT_BUCKET_NOT_FOUND","parameters":[],"reason":"Not Found"}`, 404, ""},
		{"error as text", bucketPath, "text/plain", `not found`, 404, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", "http://127.0.0.1"+c.path, nil)
			resp := &http.Response{StatusCode: c.status, Header: http.Header{"Content-Type": {c.ct}}}
			if c.status >= 400 {
				resp.Header.Set("X-Error-Code", "EXPORT_BUCKET_NOT_FOUND")
			}
			err := CheckResponse(req, resp, []byte(c.body))
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("unexpected: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
			}
		})
	}
}
