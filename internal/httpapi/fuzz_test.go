package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/snapex/snapex/internal/apitest"
	"github.com/snapex/snapex/internal/atlas"
)

// fuzzTarget serves requests in-process with a bearer token and checks
// every answer: never a 5xx, errors always an ApiError with X-Error-Code,
// successes always valid against the OpenAPI subset.
type fuzzTarget struct {
	e     *env
	token string
}

func newFuzzTarget(f *testing.F) *fuzzTarget {
	e := newEnv(f, "sqlite")
	return &fuzzTarget{e: e, token: bearerToken(f, e)}
}

func (ft *fuzzTarget) serve(t *testing.T, method, target, accept string, body []byte) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "http://snapex.test"+target, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+ft.token)
	req.Header.Set("Accept", accept)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	ft.e.handler.ServeHTTP(rec, req)
	resp := rec.Result()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s → %d: %s", method, target, resp.StatusCode, raw)
	}
	if err := apitest.CheckResponse(req, resp, raw); err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp
}

func FuzzCreateBucketBody(f *testing.F) {
	for _, seed := range []string{
		`{"cloudProvider":"AWS","bucketName":"b-1","iamRoleId":"` + awsRole + `"}`,
		`{"cloudProvider":"AZURE","roleId":"` + azureRole + `","serviceUrl":"https://a.blob.core.windows.net/c-1"}`,
		`{"cloudProvider":"GCP","bucketName":"g-1","roleId":"` + gcpRole + `"}`,
		`{"cloudProvider":"AWS","bucketName":"../../etc","iamRoleId":"` + awsRole + `"}`,
		`{"cloudProvider":"AWS","requirePrivateNetworking":1e999}`, `{"a":{"b":[[[[{}]]]]}}`, `{`, `null`, "\xff",
	} {
		f.Add([]byte(seed))
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.serve(t, "POST", groupPath(groupP1)+bucketsPath, "application/vnd.atlas.2024-05-30+json", body)
	})
}

func FuzzCreateExportBody(f *testing.F) {
	for _, seed := range []string{
		`{"snapshotId":"6c0000000000000000000001","exportBucketId":"6b0000000000000000000001"}`,
		`{"snapshotId":"6c0000000000000000000001","exportBucketId":"6b0000000000000000000001","customData":[{"key":"../x","value":"\u0000"}]}`,
		`{"customData":[{"key":1}]}`, `{"snapshotId":["a"]}`, `[]`,
	} {
		f.Add([]byte(seed))
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.serve(t, "POST", groupPath(groupP1)+"/clusters/Cluster0/backup/exports", "application/vnd.atlas.2023-01-01+json", body)
	})
}

func FuzzPatchBucketBody(f *testing.F) {
	for _, seed := range []string{`{"requirePrivateNetworking":true}`, `{"requirePrivateNetworking":"true"}`, `{}`, `{"x":1}`} {
		f.Add([]byte(seed))
	}
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.serve(t, "PATCH", groupPath(groupP1)+bucketsPath+"/6b0000000000000000000001", "application/vnd.atlas.2024-05-30+json", body)
	})
}

// FuzzQueryAndPath feeds arbitrary query strings, path segments and Accept
// headers to the read routes.
func FuzzQueryAndPath(f *testing.F) {
	f.Add("pageNum=2&itemsPerPage=3", groupP1, "Cluster0", "6c0000000000000000000001", "application/vnd.atlas.2023-01-01+json")
	f.Add("itemsPerPage=99999999999999999999&envelope=true&pretty=true", "..", "%2e%2e", "../../etc/passwd", "application/vnd.atlas.9999-99-99+json")
	f.Add("includeCount=\x00", "zz", "a b", "", "*/*")
	ft := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, query, group, cluster, id, accept string) {
		for _, p := range []string{
			"/api/atlas/v2/groups/" + url.PathEscape(group) + bucketsPath,
			"/api/atlas/v2/groups/" + url.PathEscape(group) + bucketsPath + "/" + url.PathEscape(id),
			groupPath(groupP1) + "/clusters/" + url.PathEscape(cluster) + "/backup/exports/" + url.PathEscape(id),
			groupPath(groupP1) + "/clusters/" + url.PathEscape(cluster) + "/backup/snapshots/" + url.PathEscape(id),
			groupPath(groupP1) + "/clusters/" + url.PathEscape(cluster) + "/backup/snapshots/shardedClusters",
		} {
			target := p + "?" + url.PathEscape(query)
			if strings.ContainsAny(target, " \x00") {
				continue
			}
			ft.serve(t, "GET", target, accept, nil)
		}
	})
}

// TestHostileInputs is a fixed corpus of malformed and oversized inputs:
// each gets a 4xx Atlas error, and nothing is stored.
func TestHostileInputs(t *testing.T) {
	e := newEnv(t, "sqlite")
	snap := e.addSnapshot(groupP1, "Cluster0", atlas.ReplicaSetSnapshot, atlas.SnapshotCompleted, snapT0)
	bucket := e.newAWSBucket("hostile")
	exports := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	cases := []struct {
		name, method, path, version string
		body                        any
		code                        string
	}{
		{"deep JSON", "POST", exports, "2023-01-01", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), "INVALID_JSON"},
		{"huge customData value", "POST", exports, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucket,
			"customData": []map[string]string{{"key": "k", "value": strings.Repeat("v", 4096)}}}, "INVALID_ATTRIBUTE"},
		{"too many customData", "POST", exports, "2023-01-01", map[string]any{"snapshotId": snap.ID, "exportBucketId": bucket,
			"customData": make([]map[string]string, 51)}, "INVALID_ATTRIBUTE"},
		{"number out of range", "PATCH", groupPath(groupP1) + bucketsPath + "/" + bucket, "2024-05-30", `{"requirePrivateNetworking":1e999}`, "INVALID_JSON_ATTRIBUTE"},
		{"traversal bucket name", "POST", groupPath(groupP1) + bucketsPath, "2024-05-30", map[string]any{"cloudProvider": "AWS", "bucketName": "../../etc", "iamRoleId": awsRole}, "EXPORT_BUCKET_NAME_INVALID"},
		{"traversal snapshot id", "GET", groupPath(groupP1) + "/clusters/Cluster0/backup/snapshots/..%2f..%2fetc", "2023-01-01", nil, "RESOURCE_NOT_FOUND"},
		{"NUL in cluster name", "GET", groupPath(groupP1) + "/clusters/a%00b/backup/exports", "2023-01-01", nil, "INVALID_PATH_PARAMETER"},
		{"huge itemsPerPage", "GET", exports + "?itemsPerPage=99999999999999999999999", "2023-01-01", nil, "INVALID_QUERY_PARAMETER"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, c.version, c.body)
			if r.status < 400 || r.status >= 500 || r.code() != c.code {
				t.Fatalf("%d %s, want 4xx %s: %s", r.status, r.code(), c.code, r.raw)
			}
		})
	}
	list := e.do("GET", exports, "2023-01-01", nil)
	if list.body["totalCount"] != 0.0 {
		t.Fatalf("a hostile request created a job: %s", list.raw)
	}
}
