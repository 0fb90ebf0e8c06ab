package httpapi

import (
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/snapex/snapex/internal/atlas"
)

// protectedPrefix is the API root every request under which must
// authenticate before it learns anything, even whether its path exists.
const protectedPrefix = "/api/atlas/"

// probeMethods are the methods a route may serve, in the order Allow lists
// them.
var probeMethods = []string{"GET", "HEAD", "POST", "PATCH", "DELETE", "PUT"}

// allowedMethods lists the methods mux serves for r's path (with OPTIONS,
// which every known path answers), or nil for an unknown path.
func allowedMethods(mux *http.ServeMux, r *http.Request) []string {
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		return nil
	}
	return append(allow, "OPTIONS")
}

// unmatched answers requests no route took: under the API root the caller
// authenticates first (401 with the challenge, so a wrong key never learns
// which paths exist); then OPTIONS on a known path is 204 with Allow, any
// other method on a known path 405 with Allow (RFC 9110 §15.5.6), and an
// unknown path 404.
func (s *Server) unmatched(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	if !s.authenticateUnmatched(w, r) {
		return
	}
	allow := allowedMethods(mux, r)
	if allow == nil {
		writeError(w, r, atlas.ErrResourceNotFound(r.URL.Path))
		return
	}
	w.Header().Set("Allow", strings.Join(allow, ", "))
	if r.Method == http.MethodOptions {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeError(w, r, atlas.ErrMethodNotAllowed(r.Method, r.URL.Path))
}

// authenticateUnmatched runs the gate for a request under the API root
// that no route took; it has answered 401 and returns false when the
// caller has no valid credentials.
func (s *Server) authenticateUnmatched(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, protectedPrefix) {
		return true
	}
	if _, aerr := s.Gate.Authenticate(w, r); aerr != nil {
		if aerr.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
			s.Gate.Challenge(w.Header())
		}
		writeError(w, r, aerr)
		return false
	}
	return true
}

// vendorJSON matches Atlas's vendor JSON media types: dated versions and
// preview.
var vendorJSON = regexp.MustCompile(`^application/vnd\.atlas\.[a-z0-9.-]+\+json$`)

// checkContentType accepts a request body only as application/json or an
// Atlas vendor JSON type (any parameters, such as charset, allowed). A
// body with another type, or none, is 415 rather than guessed at: a form
// post from curl -d must not be parsed as JSON.
func checkContentType(r *http.Request) *atlas.Error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == "application/json" || vendorJSON.MatchString(mt)) {
		return nil
	}
	return atlas.ErrUnsupportedMediaType(ct)
}

// queryBool parses a boolean query parameter the one way snapex parses
// them all (envelope, pretty, includeCount, …): absent or empty is the
// default; "true" or "false" in any letter case is the value; anything
// else is 400 INVALID_QUERY_PARAMETER naming the parameter. The spec types
// these parameters as boolean, and silently reading "ture" or "1" as the
// default would hand a client a body shaped other than it asked for.
func queryBool(r *http.Request, name string, def bool) (bool, *atlas.Error) {
	raw := r.URL.Query().Get(name)
	switch {
	case raw == "":
		return def, nil
	case strings.EqualFold(raw, "true"):
		return true, nil
	case strings.EqualFold(raw, "false"):
		return false, nil
	}
	return def, atlas.ErrInvalidQueryParameter(name, raw, "true or false is expected")
}

// checkFormat validates the output-option parameters every operation
// takes; formatOf then reads them leniently, as it also renders errors.
func checkFormat(r *http.Request) *atlas.Error {
	for _, name := range []string{"envelope", "pretty"} {
		if _, aerr := queryBool(r, name, false); aerr != nil {
			return aerr
		}
	}
	return nil
}

// Bounds on what an error body echoes from the request, so a 200,000
// character bucket name or a 60 KB path yields a small error: each echoed
// value (parameters) at most maxEchoBytes, the detail at most
// maxDetailBytes, both cut on a UTF-8 boundary and marked with "…".
const (
	maxEchoBytes   = 256
	maxDetailBytes = 1024
)

// capEcho returns e's detail and parameters with long echoed values cut;
// the detail's copies of a cut value (verbatim or %q-quoted) are cut the
// same way so detail and parameters still agree.
func capEcho(e *atlas.Error) (string, []string) {
	detail := e.Detail
	params := make([]string, len(e.Params))
	for i, p := range e.Params {
		if len(p) <= maxEchoBytes {
			params[i] = p
			continue
		}
		cut := cutUTF8(p, maxEchoBytes) + "…"
		detail = strings.ReplaceAll(detail, strconv.Quote(p), strconv.Quote(cut))
		detail = strings.ReplaceAll(detail, p, cut)
		params[i] = cut
	}
	if len(detail) > maxDetailBytes {
		detail = cutUTF8(detail, maxDetailBytes) + "…"
	}
	return detail, params
}

// cutUTF8 returns at most n bytes of s, never splitting a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
