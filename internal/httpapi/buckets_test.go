package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

const bucketsPath = "/backup/exportBuckets"

func TestBucketLifecycleAllProviders(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			e := newEnv(t, engine)
			base := groupPath(groupP1) + bucketsPath

			aws := e.do("POST", base, "2024-05-30", map[string]any{"cloudProvider": "AWS", "bucketName": "export-bucket", "iamRoleId": awsRole})
			e.expect(aws, 200, "")
			if aws.str("_id") == "" || aws.body["region"] != nil || aws.body["requirePrivateNetworking"] != false || aws.str("iamRoleId") != awsRole {
				t.Fatalf("AWS create body: %s", aws.raw)
			}
			if ct := aws.header.Get("Content-Type"); ct != "application/vnd.atlas.2024-05-30+json;charset=utf-8" {
				t.Fatalf("Content-Type %q", ct)
			}
			got := e.do("GET", base+"/"+aws.str("_id"), "2024-05-30", nil)
			e.expect(got, 200, "")
			if got.str("region") != "us-east-1" {
				t.Fatalf("GET must carry region: %s", got.raw)
			}

			az := e.do("POST", base, "2024-05-30", map[string]any{"cloudProvider": "AZURE", "roleId": azureRole,
				"serviceUrl": "https://acct.blob.core.windows.net/exportcontainer"})
			e.expect(az, 200, "")
			if az.str("bucketName") != "exportcontainer" || az.str("tenantId") == "" || az.str("roleId") != azureRole || az.body["iamRoleId"] != nil {
				t.Fatalf("Azure create body: %s", az.raw)
			}
			gcp := e.do("POST", base, "2024-05-30", map[string]any{"cloudProvider": "GCP", "bucketName": "gcs-export", "roleId": gcpRole})
			e.expect(gcp, 200, "")

			list := e.do("GET", base, "2024-05-30", nil)
			e.expect(list, 200, "")
			if list.body["totalCount"] != 3.0 || len(list.body["results"].([]any)) != 3 {
				t.Fatalf("2024-05-30 list: %s", list.raw)
			}
			old := e.do("GET", base, "2023-01-01", nil)
			e.expect(old, 200, "")
			if old.body["totalCount"] != 1.0 {
				t.Fatalf("2023-01-01 lists AWS buckets only: %s", old.raw)
			}
			if old.header.Get("Sunset") != "Thu, 1 Jul 2027 00:00:00 GMT" || old.header.Get("Deprecation") == "" {
				t.Fatalf("deprecated version headers: %v", old.header)
			}
			e.expect(e.do("GET", base+"/"+az.str("_id"), "2023-01-01", nil), 406, "INVALID_VERSION_DATE")

			patched := e.do("PATCH", base+"/"+aws.str("_id"), "2024-05-30", map[string]any{"requirePrivateNetworking": true})
			e.expect(patched, 200, "")
			if patched.body["requirePrivateNetworking"] != true {
				t.Fatalf("patch body: %s", patched.raw)
			}
			e.expect(e.do("PATCH", base+"/"+az.str("_id"), "2024-05-30", map[string]any{"requirePrivateNetworking": true}), 400, "INVALID_ATTRIBUTE")
			e.expect(e.do("PATCH", base+"/"+aws.str("_id"), "2024-05-30", map[string]any{}), 400, "MISSING_ATTRIBUTE")
			e.expect(e.do("PATCH", base+"/"+aws.str("_id"), "2023-01-01", map[string]any{"requirePrivateNetworking": true}), 406, "INVALID_VERSION_DATE")

			for _, id := range []string{aws.str("_id"), az.str("_id"), gcp.str("_id")} {
				del := e.do("DELETE", base+"/"+id, "2023-01-01", nil)
				e.expect(del, 204, "")
				if len(del.raw) != 0 || del.header.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
					t.Fatalf("delete answer: %q %v", del.raw, del.header)
				}
				e.expect(e.do("GET", base+"/"+id, "2024-05-30", nil), 404, "EXPORT_BUCKET_NOT_FOUND")
				e.expect(e.do("DELETE", base+"/"+id, "2023-01-01", nil), 404, "EXPORT_BUCKET_NOT_FOUND")
			}
			if e.check.Checked() < 20 {
				t.Fatalf("only %d responses were validated", e.check.Checked())
			}
		})
	}
}

func TestBucketCreateVersion20230101(t *testing.T) {
	e := newEnv(t, "sqlite")
	base := groupPath(groupP1) + bucketsPath
	r := e.do("POST", base, "2023-01-01", map[string]any{"cloudProvider": "AWS", "bucketName": "old-style", "iamRoleId": awsRole})
	e.expect(r, 200, "")
	if r.header.Get("Sunset") == "" || r.header.Get("Content-Type") != "application/vnd.atlas.2023-01-01+json;charset=utf-8" {
		t.Fatalf("headers: %v", r.header)
	}
	e.expect(e.do("POST", base, "2023-01-01", map[string]any{"cloudProvider": "GCP", "bucketName": "gcs-export", "roleId": gcpRole}), 400, "INVALID_PROVIDER")
}

func TestBucketValidationErrors(t *testing.T) {
	e := newEnv(t, "sqlite")
	base := groupPath(groupP1) + bucketsPath
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		detail string
	}{
		{"no provider", map[string]any{"bucketName": "b-1", "iamRoleId": awsRole}, 400, "MISSING_ATTRIBUTE", "cloudProvider"},
		{"unknown provider", map[string]any{"cloudProvider": "bogus", "bucketName": "b-1"}, 400, "INVALID_PROVIDER", "bogus"},
		{"no bucket name", map[string]any{"cloudProvider": "AWS", "iamRoleId": awsRole}, 400, "MISSING_ATTRIBUTE", "bucketName"},
		{"no role", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1"}, 400, "MISSING_ATTRIBUTE", "iamRoleId"},
		{"bad S3 name", map[string]any{"cloudProvider": "AWS", "bucketName": "Bad_Name", "iamRoleId": awsRole}, 400, "EXPORT_BUCKET_NAME_INVALID", "Bad_Name"},
		{"S3 name as IP", map[string]any{"cloudProvider": "AWS", "bucketName": "192.168.1.1", "iamRoleId": awsRole}, 400, "EXPORT_BUCKET_NAME_INVALID", "IP address"},
		{"GCS name with google", map[string]any{"cloudProvider": "GCP", "bucketName": "my-google-bucket", "roleId": gcpRole}, 400, "EXPORT_BUCKET_NAME_INVALID", "google"},
		{"malformed role id", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": "xyz"}, 400, "INVALID_ATTRIBUTE", "iamRoleId"},
		{"unknown role", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": "c0000000000000000000ffff"}, 400, "INVALID_ATTRIBUTE", "no AWS cloud provider access role"},
		{"role of other provider", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": azureRole}, 400, "INVALID_ATTRIBUTE", "AZURE access role"},
		{"role of other project", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": p3AWSRole}, 400, "INVALID_ATTRIBUTE", "iamRoleId"},
		{"azure http url", map[string]any{"cloudProvider": "AZURE", "roleId": azureRole, "serviceUrl": "http://acct.blob.core.windows.net/exportcontainer"}, 400, "INVALID_ATTRIBUTE", "https"},
		{"azure container mismatch", map[string]any{"cloudProvider": "AZURE", "roleId": azureRole, "bucketName": "other", "serviceUrl": "https://acct.blob.core.windows.net/exportcontainer"}, 400, "INVALID_ATTRIBUTE", "exportcontainer"},
		{"azure no container", map[string]any{"cloudProvider": "AZURE", "roleId": azureRole, "serviceUrl": "https://acct.blob.core.windows.net/"}, 400, "INVALID_ATTRIBUTE", "serviceUrl"},
		{"unknown field", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": awsRole, "bogus": 1}, 400, "INVALID_ATTRIBUTE", "bogus"},
		{"field of other provider", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": awsRole, "serviceUrl": "https://x.blob.core.windows.net/b"}, 400, "INVALID_ATTRIBUTE", "serviceUrl"},
		{"wrong type", map[string]any{"cloudProvider": "AWS", "bucketName": 12, "iamRoleId": awsRole}, 400, "INVALID_JSON_ATTRIBUTE", "bucketName"},
		{"wrong bool type", map[string]any{"cloudProvider": "AWS", "bucketName": "b-1", "iamRoleId": awsRole, "requirePrivateNetworking": "yes"}, 400, "INVALID_JSON_ATTRIBUTE", "requirePrivateNetworking"},
		{"malformed JSON", `{"cloudProvider": "AWS",`, 400, "INVALID_JSON", ""},
		{"not an object", `["AWS"]`, 400, "INVALID_JSON", ""},
		{"empty body", ``, 400, "INVALID_JSON", ""},
		{"duplicate key", `{"cloudProvider":"AWS","cloudProvider":"GCP"}`, 400, "INVALID_JSON", "cloudProvider"},
		{"trailing data", `{"cloudProvider":"AWS"} {}`, 400, "INVALID_JSON", ""},
		{"invalid UTF-8", []byte("{\"cloudProvider\":\"AWS\",\"bucketName\":\"\xff\xfe\"}"), 400, "INVALID_JSON", "UTF-8"},
		{"too deep", strings.Repeat("[", 100) + strings.Repeat("]", 100), 400, "INVALID_JSON", "nesting"},
		{"over 1 MiB", `{"bucketName":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "REQUEST_TOO_LARGE", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", base, "2024-05-30", c.body)
			e.expect(r, c.status, c.code)
			if c.detail != "" && !strings.Contains(r.str("detail"), c.detail) {
				t.Fatalf("detail %q does not name %q", r.str("detail"), c.detail)
			}
			if r.header.Get("X-Error-Code") != c.code || r.header.Get("Content-Type") != "application/json" {
				t.Fatalf("error headers: %v", r.header)
			}
		})
	}
	list := e.do("GET", base, "2024-05-30", nil)
	if list.body["totalCount"] != 0.0 {
		t.Fatalf("a rejected request stored a bucket: %s", list.raw)
	}
}

func TestBucketPathErrors(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.expect(e.do("GET", groupPath(groupP1)+bucketsPath+"/not-an-id", "2024-05-30", nil), 400, "INVALID_PATH_PARAMETER")
	e.expect(e.do("DELETE", groupPath(groupP1)+bucketsPath+"/6b0000000000000000000001", "2023-01-01", nil), 404, "EXPORT_BUCKET_NOT_FOUND")
	e.expect(e.do("PUT", groupPath(groupP1)+bucketsPath, "2024-05-30", nil), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED")
	e.expect(e.do("GET", "/api/atlas/v2/nothing-here", "2024-05-30", nil), 404, "RESOURCE_NOT_FOUND")
}
