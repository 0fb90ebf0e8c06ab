package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/snapex/snapex/internal/atlas"
)

// maxPageNum bounds pageNum so offsets stay far from overflow.
const maxPageNum = 1 << 20

// paging holds the parsed pagination query parameters.
type paging struct {
	page         atlas.Page
	includeCount bool
}

// parsePaging reads pageNum, itemsPerPage and includeCount. Values outside
// the spec's bounds (pageNum ≥ 1, 1 ≤ itemsPerPage ≤ 500) are rejected with
// INVALID_QUERY_PARAMETER naming the parameter, rather than silently
// clamped, so a client never misreads a shorter page as the end.
func parsePaging(r *http.Request) (paging, *atlas.Error) {
	q := r.URL.Query()
	p := paging{page: atlas.FirstPage, includeCount: true}
	var err *atlas.Error
	if p.page.Number, err = intParam(q.Get("pageNum"), "pageNum", 1, 1, maxPageNum); err != nil {
		return p, err
	}
	if p.page.ItemsPerPage, err = intParam(q.Get("itemsPerPage"), "itemsPerPage", atlas.DefaultItemsPerPage, 1, atlas.MaxItemsPerPage); err != nil {
		return p, err
	}
	if p.includeCount, err = queryBool(r, "includeCount", true); err != nil {
		return p, err
	}
	return p, nil
}

func intParam(raw, name string, def, lo, hi int) (int, *atlas.Error) {
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < lo || n > hi {
		return 0, atlas.ErrInvalidQueryParameter(name, raw, fmt.Sprintf("an integer from %d to %d is expected", lo, hi))
	}
	return n, nil
}

// link is an Atlas Link.
type link struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// paginated is the shape of every list response.
type paginated struct {
	Links      []link `json:"links"`
	Results    any    `json:"results"`
	Status     int    `json:"status,omitempty"`
	TotalCount *int   `json:"totalCount,omitempty"`
}

// pageLinks builds absolute self, previous and next links in the
// parameter order Atlas uses.
func pageLinks(base string, p paging, total, returned int) []link {
	ic := strconv.FormatBool(p.includeCount)
	ipp := strconv.Itoa(p.page.ItemsPerPage)
	n := p.page.Number
	links := []link{{Rel: "self", Href: fmt.Sprintf("%s?includeCount=%s&pageNum=%d&itemsPerPage=%s", base, ic, n, ipp)}}
	if n > 1 {
		links = append(links, link{Rel: "previous", Href: fmt.Sprintf("%s?includeCount=%s&itemsPerPage=%s&pageNum=%d", base, ic, ipp, n-1)})
	}
	if n*p.page.ItemsPerPage < total && returned > 0 {
		links = append(links, link{Rel: "next", Href: fmt.Sprintf("%s?includeCount=%s&itemsPerPage=%s&pageNum=%d", base, ic, ipp, n+1)})
	}
	return links
}

// writePage renders a list page with links, the count when asked for,
// and "status" under envelope=true.
func writePage(w http.ResponseWriter, r *http.Request, v apiVersion, base string, p paging, results any, returned, total int) {
	body := paginated{Links: pageLinks(base, p, total, returned), Results: results}
	if p.includeCount {
		body.TotalCount = &total
	}
	f := formatOf(r)
	if f.envelope {
		body.Status = http.StatusOK
	}
	v.setHeaders(w.Header())
	writeBody(w, http.StatusOK, body, f.pretty)
}
