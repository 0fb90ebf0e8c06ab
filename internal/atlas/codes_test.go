package atlas

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"testing"
)

// declaredCodes parses codes.go and returns every constant of type Code, so
// a constant added without a table entry fails here rather than at runtime.
func declaredCodes(t *testing.T) map[string]Code {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "codes.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Code{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Code" {
				continue
			}
			for i, name := range vs.Names {
				v, err := strconv.Unquote(vs.Values[i].(*ast.BasicLit).Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = Code(v)
			}
		}
	}
	if len(out) < 30 {
		t.Fatalf("found only %d Code constants in codes.go; the parser missed some", len(out))
	}
	return out
}

func TestEveryCodeHasExactlyOneKind(t *testing.T) {
	seen := map[Code]string{}
	for name, c := range declaredCodes(t) {
		if other, dup := seen[c]; dup {
			t.Errorf("%s and %s both spell %s", name, other, c)
		}
		seen[c] = name
		status, hasStatus := c.Status()
		switch {
		case hasStatus && reasonOnly[c]:
			t.Errorf("%s (%s) has status %d but is also listed as stateReason-only", name, c, status)
		case !hasStatus && !reasonOnly[c]:
			t.Errorf("%s (%s) has no HTTP status and is not a stateReason-only code", name, c)
		case hasStatus && (status < 400 || status > 599 || http.StatusText(status) == ""):
			t.Errorf("%s (%s) maps to %d, not an error status", name, c, status)
		}
	}
	for c := range statusOf {
		if _, ok := seen[c]; !ok {
			t.Errorf("statusOf lists %s, which no constant declares", c)
		}
	}
}

func TestNewTakesStatusFromTable(t *testing.T) {
	e := New(CodeExportAlreadyInProgress, "d", "p")
	if e.Status != http.StatusConflict || e.Code != CodeExportAlreadyInProgress || e.Detail != "d" || len(e.Params) != 1 {
		t.Fatalf("New = %+v", e)
	}
	if e := New(CodeExportFailed, "stateReason only"); e.Status != http.StatusInternalServerError {
		t.Fatalf("a stateReason-only code answers %d, want 500", e.Status)
	}
	if e := New("NO_SUCH_CODE", "typo"); e.Status != http.StatusInternalServerError {
		t.Fatalf("an unknown code answers %d, want 500", e.Status)
	}
}

// TestConstructorsOnTheWire pins status, code, detail and parameters of
// every constructor, as clients see them.
func TestConstructorsOnTheWire(t *testing.T) {
	cases := []struct {
		e      *Error
		status int
		code   Code
		detail string
		params []string
	}{
		{ErrGroupNotFound("g1"), 404, "GROUP_NOT_FOUND", "No group with ID g1 exists.", []string{"g1"}},
		{ErrInvalidGroupID("x"), 404, "INVALID_GROUP_ID", "The specified group ID x is invalid.", []string{"x"}},
		{ErrClusterNotFound("c", "g"), 404, "CLUSTER_NOT_FOUND", "No cluster named c exists in group g.", []string{"c", "g"}},
		{ErrSnapshotNotFound("s", "c"), 404, "SNAPSHOT_NOT_FOUND", "No snapshot with ID s exists for cluster c.", []string{"s", "c"}},
		{ErrInvalidSnapshotID("s"), 404, "INVALID_SNAPSHOT_ID", "The specified snapshot ID s is invalid.", []string{"s"}},
		{ErrExportBucketNotFound("b"), 404, "EXPORT_BUCKET_NOT_FOUND", "No export bucket with ID b exists.", []string{"b"}},
		{ErrExportJobNotFound("j"), 404, "RESOURCE_NOT_FOUND", "Cannot find resource Export job with id j.", []string{"Export job with id j"}},
		{ErrResourceNotFound("/x"), 404, "RESOURCE_NOT_FOUND", "Cannot find resource /x.", []string{"/x"}},
		{ErrMethodNotAllowed("PUT", "/x"), 405, "METHOD_NOT_ALLOWED", "Method PUT is not allowed on /x.", []string{"PUT"}},
		{ErrInvalidPathParameter("n", "v"), 400, "INVALID_PATH_PARAMETER", `The path parameter n has an invalid value "v".`, []string{"n", "v"}},
		{ErrMissingAttribute("f"), 400, "MISSING_ATTRIBUTE", "The required attribute f was not specified.", []string{"f"}},
		{ErrInvalidAttribute("f", "v", "why"), 400, "INVALID_ATTRIBUTE", `Invalid attribute f specified with value "v": why`, []string{"f", "v"}},
		{ErrUnknownAttribute("f"), 400, "INVALID_ATTRIBUTE", "Invalid attribute f specified.", []string{"f"}},
		{ErrInvalidJSONAttribute("f", "a string"), 400, "INVALID_JSON_ATTRIBUTE", "Received JSON for the f attribute does not match expected format: expected a string.", []string{"f"}},
		{ErrInvalidJSON("why"), 400, "INVALID_JSON", "Received JSON is malformed: why", []string{"why"}},
		{ErrRequestTooLarge(10), 413, "REQUEST_TOO_LARGE", "The request body exceeds the limit of 10 bytes.", nil},
		{ErrInvalidEnumValue("retentionUnit", "X", "DAYS or WEEKS"), 400, "INVALID_ENUM_VALUE", `Invalid retentionUnit "X"; expected DAYS or WEEKS.`, []string{"retentionUnit", "X"}},
		{ErrInvalidProvider("P"), 400, "INVALID_PROVIDER", "No provider P exists.", []string{"P"}},
		{ErrInvalidQueryParameter("q", "v", "why"), 400, "INVALID_QUERY_PARAMETER", `Invalid query parameter q with value "v": why`, []string{"q", "v"}},
		{ErrInvalidVersionDate(), 406, "INVALID_VERSION_DATE", "Invalid accept header or version date.", nil},
		{ErrVersionCannotRepresent("d", "b"), 406, "INVALID_VERSION_DATE", "d", []string{"b"}},
		{ErrVersionGone("2023-01-01", "api/atlas/v2/groups/g/clusters"), 410, "VERSION_GONE", "Version 2023-01-01 of api/atlas/v2/groups/g/clusters is no longer available.", []string{"2023-01-01", "api/atlas/v2/groups/g/clusters"}},
		{ErrRateLimited(60, 2), 429, "RATE_LIMITED", "You have exceeded the limit of 60 requests per minute; retry after 2 seconds.", nil},
		{ErrUnexpected(), 500, "UNEXPECTED_ERROR", "Unexpected error.", nil},
		{ErrBucketNameInvalid("B", AWS, errString("rule")), 400, "EXPORT_BUCKET_NAME_INVALID", `Invalid bucket name "B" for AWS: rule.`, []string{"B"}},
		{ErrBucketAccessDenied("d", "b", "r"), 400, "EXPORT_BUCKET_ACCESS_DENIED", "d", []string{"b", "r"}},
		{ErrBucketInUse("b"), 400, "EXPORT_BUCKET_DELETE_FAILED_BUCKET_IN_USE", "Export bucket b is used by a queued or running export or restore job; delete it once those jobs finish.", []string{"b"}},
		{ErrExportAlreadyInProgress("s"), 409, "EXPORT_ALREADY_IN_PROGRESS", "Snapshot s already has a queued or running export job; wait for it to finish.", []string{"s"}},
		{ErrUnfinishedOnDemandSnapshot("c"), 400, "UNFINISHED_ON_DEMAND_SNAPSHOT", "Cluster c already has an on-demand snapshot that has not finished.", []string{"c"}},
		{ErrCannotDeleteInProgressSnapshot("s", SnapshotQueued), 400, "CANNOT_DELETE_IN_PROGRESS_SNAPSHOT", "Snapshot s is queued; delete it once it has completed or failed.", []string{"s"}},
		{ErrCannotModifyInProgressRetention("s", SnapshotInProgress), 400, "CANNOT_MODIFY_IN_PROGRESS_SNAPSHOT_RETENTION", "Snapshot s is inProgress; its retention can change once it has completed.", []string{"s"}},
		{ErrRetentionValueInvalid(0, "DAYS"), 400, "BACKUP_SNAPSHOT_RETENTION_VALUE_INVALID", "retentionValue 0 DAYS is outside 1 day to 10 years.", []string{"0"}},
		{ErrNotAuthenticated(), 401, "UNEXPECTED_ERROR", "You are not authorized for this resource.", nil},
		{ErrUserUnauthorized(), 401, "USER_UNAUTHORIZED", "Current user is not authorized to perform this action.", []string{}},
		{ErrNotOnAccessList("1.2.3.4"), 403, "IP_ADDRESS_NOT_ON_ACCESS_LIST", "IP address 1.2.3.4 is not allowed to access this resource.", []string{"1.2.3.4"}},
	}
	for _, c := range cases {
		e := c.e
		if e.Status != c.status || e.Code != c.code || e.Detail != c.detail || !sameParams(e.Params, c.params) {
			t.Errorf("got %d %s %q %q\nwant %d %s %q %q", e.Status, e.Code, e.Detail, e.Params, c.status, c.code, c.detail, c.params)
		}
		if want, ok := e.Code.Status(); ok && want != e.Status && e.Code != CodeUnexpectedError {
			t.Errorf("%s answers %d, the table says %d", e.Code, e.Status, want)
		}
	}
}

// sameParams compares parameters, including whether they are nil: USER_UNAUTHORIZED
// carries an explicit empty list as Atlas sends it.
func sameParams(a, b []string) bool {
	if (a == nil) != (b == nil) || len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

type errString string

func (e errString) Error() string { return string(e) }

func TestHasCode(t *testing.T) {
	err := ErrSnapshotNotFound("s", "c")
	if !HasCode(err, CodeSnapshotNotFound) || HasCode(err, CodeClusterNotFound) {
		t.Fatal("HasCode does not match the code")
	}
	if !HasCode(wrapped{err}, CodeSnapshotNotFound) {
		t.Fatal("HasCode does not see through wrapping")
	}
	if HasCode(errString("plain"), CodeSnapshotNotFound) || HasCode(nil, CodeSnapshotNotFound) {
		t.Fatal("HasCode matched a non-Atlas error")
	}
}

type wrapped struct{ err error }

func (w wrapped) Error() string { return "wrapped: " + w.err.Error() }
func (w wrapped) Unwrap() error { return w.err }

func TestExportsCollection(t *testing.T) {
	cases := []struct {
		db, name string
		view     bool
		want     bool
	}{
		{"shop", "orders", false, true},
		{"shop", "system.js", false, true},
		{"shop", "readings", false, true}, // a time series collection
		{"shop", "system.views", false, false},
		{"shop", "system.buckets.readings", false, false},
		{"shop", "ordersView", true, false},
		{"admin", "users", false, false},
		{"config", "settings", false, false},
		{"local", "oplog.rs", false, false},
	}
	for _, c := range cases {
		if got := ExportsCollection(c.db, c.name, c.view); got != c.want {
			t.Errorf("ExportsCollection(%s, %s, view=%v) = %v, want %v", c.db, c.name, c.view, got, c.want)
		}
	}
}
