package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

func TestVersionNegotiation(t *testing.T) {
	e := newEnv(t, "sqlite")
	buckets := groupPath(groupP1) + bucketsPath
	exports := groupPath(groupP1) + "/clusters/Cluster0/backup/exports"
	cases := []struct {
		path, accept string
		status       int
		contentType  string
	}{
		{buckets, "2024-05-30", 200, "application/vnd.atlas.2024-05-30+json;charset=utf-8"},
		{buckets, "2023-01-01", 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{buckets, "2025-03-12", 200, "application/vnd.atlas.2024-05-30+json;charset=utf-8"},
		{buckets, "2024-01-01", 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{exports, "2025-03-12", 200, "application/vnd.atlas.2023-01-01+json;charset=utf-8"},
		{buckets, "2022-12-31", 406, "application/json"},
		{buckets, "", 406, "application/json"},
		{buckets, "2024-13-45", 406, "application/json"},
	}
	for _, c := range cases {
		t.Run(c.accept, func(t *testing.T) {
			r := e.do("GET", c.path, c.accept, nil)
			if r.status != c.status || r.header.Get("Content-Type") != c.contentType {
				t.Fatalf("Accept %q: %d %q: %s", c.accept, r.status, r.header.Get("Content-Type"), r.raw)
			}
			if c.status == 406 && (r.code() != "INVALID_VERSION_DATE" || r.str("detail") != "Invalid accept header or version date.") {
				t.Fatalf("406 body: %s", r.raw)
			}
		})
	}
	// A plain JSON Accept header is not a version.
	r := e.doWithAccept("GET", buckets, "application/json")
	e.expect(r, 406, "INVALID_VERSION_DATE")
}

func (e *env) doWithAccept(method, path, accept string) response {
	e.t.Helper()
	// doAs sets the vendor type from a date; pass the raw header instead.
	return e.doRaw(method, path, map[string]string{"Accept": accept})
}

func TestEnvelopeAndPretty(t *testing.T) {
	e := newEnv(t, "sqlite")
	id := e.newAWSBucket("enveloped")
	one := e.do("GET", groupPath(groupP1)+bucketsPath+"/"+id+"?envelope=true", "2024-05-30", nil)
	e.expect(one, 200, "")
	if one.body["status"] != 200.0 || one.body["content"].(map[string]any)["_id"] != id {
		t.Fatalf("envelope: %s", one.raw)
	}
	list := e.do("GET", groupPath(groupP1)+bucketsPath+"?envelope=true", "2024-05-30", nil)
	if list.body["status"] != 200.0 || list.body["results"] == nil {
		t.Fatalf("list envelope: %s", list.raw)
	}
	del := e.do("DELETE", groupPath(groupP1)+bucketsPath+"/"+id+"?envelope=true", "2023-01-01", nil)
	if del.status != 200 || del.body["status"] != 204.0 {
		t.Fatalf("204 under envelope: %d %s", del.status, del.raw)
	}
	pretty := e.do("GET", groupPath(groupP1)+bucketsPath+"?pretty=true", "2024-05-30", nil)
	if !strings.Contains(string(pretty.raw), "\n  \"links\"") {
		t.Fatalf("pretty: %s", pretty.raw)
	}
	plain := e.do("GET", groupPath(groupP1)+bucketsPath, "2024-05-30", nil)
	if strings.Contains(string(plain.raw), "\n") {
		t.Fatalf("compact by default: %s", plain.raw)
	}
}

func TestPagination(t *testing.T) {
	e := newEnv(t, "sqlite")
	for i := 0; i < 7; i++ {
		e.newAWSBucket(fmt.Sprintf("page-bucket-%d", i))
	}
	base := groupPath(groupP1) + bucketsPath
	links := func(r response) map[string]string {
		out := map[string]string{}
		for _, l := range r.body["links"].([]any) {
			m := l.(map[string]any)
			out[m["rel"].(string)] = m["href"].(string)
		}
		return out
	}
	p2 := e.do("GET", base+"?pageNum=2&itemsPerPage=3", "2024-05-30", nil)
	e.expect(p2, 200, "")
	l := links(p2)
	if len(p2.body["results"].([]any)) != 3 || p2.body["totalCount"] != 7.0 {
		t.Fatalf("page 2: %s", p2.raw)
	}
	if l["self"] != e.url+base+"?includeCount=true&pageNum=2&itemsPerPage=3" ||
		l["previous"] != e.url+base+"?includeCount=true&itemsPerPage=3&pageNum=1" ||
		l["next"] != e.url+base+"?includeCount=true&itemsPerPage=3&pageNum=3" {
		t.Fatalf("links: %v", l)
	}
	p3 := e.do("GET", base+"?pageNum=3&itemsPerPage=3", "2024-05-30", nil)
	if len(p3.body["results"].([]any)) != 1 || links(p3)["next"] != "" {
		t.Fatalf("last page: %s", p3.raw)
	}
	past := e.do("GET", base+"?pageNum=9&itemsPerPage=3", "2024-05-30", nil)
	e.expect(past, 200, "")
	if len(past.body["results"].([]any)) != 0 || past.body["totalCount"] != 7.0 || links(past)["next"] != "" {
		t.Fatalf("past the end: %s", past.raw)
	}
	first := e.do("GET", base, "2024-05-30", nil)
	if links(first)["self"] != e.url+base+"?includeCount=true&pageNum=1&itemsPerPage=100" || links(first)["previous"] != "" {
		t.Fatalf("default links: %v", links(first))
	}
	noCount := e.do("GET", base+"?includeCount=false", "2024-05-30", nil)
	if _, has := noCount.body["totalCount"]; has {
		t.Fatalf("includeCount=false: %s", noCount.raw)
	}
	max := e.do("GET", base+"?itemsPerPage=500", "2024-05-30", nil)
	e.expect(max, 200, "")
	for _, q := range []string{"itemsPerPage=0", "itemsPerPage=501", "pageNum=0", "pageNum=-1", "itemsPerPage=abc", "includeCount=maybe"} {
		r := e.do("GET", base+"?"+q, "2024-05-30", nil)
		e.expect(r, 400, "INVALID_QUERY_PARAMETER")
		if !strings.Contains(r.str("detail"), strings.SplitN(q, "=", 2)[0]) {
			t.Fatalf("%s: detail %q", q, r.str("detail"))
		}
	}
}

func TestProjectResolution(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.expect(e.do("GET", groupPath("123")+bucketsPath, "2024-05-30", nil), 404, "INVALID_GROUP_ID")
	r := e.do("GET", groupPath("111111111111111111111111")+bucketsPath, "2024-05-30", nil)
	e.expect(r, 404, "GROUP_NOT_FOUND")
	if r.str("detail") != "No group with ID 111111111111111111111111 exists." {
		t.Fatalf("detail: %s", r.raw)
	}
	// A key of organization A learns nothing of organization B's project.
	cross := e.do("GET", groupPath(groupP3)+bucketsPath, "2024-05-30", nil)
	if cross.status != 401 && cross.status != 403 {
		t.Fatalf("cross-organization access: %d %s", cross.status, cross.raw)
	}
}
