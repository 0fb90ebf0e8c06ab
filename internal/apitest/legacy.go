package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3filter"
)

// legacyPrefix is the unversioned v1.0 API root.
const legacyPrefix = "/api/atlas/v1.0/"

// legacyAsVersion is the v2 representation a v1.0 body is checked against:
// the v1.0 resources became the versioned API's 2023-01-01 resources (the
// first version of every resource), with the differences below.
const legacyAsVersion = "application/vnd.atlas.2023-01-01+json"

// checkLegacy validates a v1.0 exchange, which the OpenAPI subset (v2
// only) does not describe directly:
//   - errors are ApiError bodies exactly as on v2 (checkError);
//   - success bodies are plain application/json, with no version header;
//   - the body must match the v2 operation of the same path at 2023-01-01,
//     the v1.0 model's successor (extra fields are allowed by the spec, so
//     v1.0's errMsg passes), and must not carry v2-only stateReason;
//   - operations the subset lacks (clusters, snapex extensions) get the
//     header checks only.
func checkLegacy(req *http.Request, resp *http.Response, body []byte) error {
	doc, rtr, err := load()
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return checkError(doc, resp, body)
	}
	if req.Method == http.MethodOptions {
		return checkOptions(req, resp, body)
	}
	if resp.StatusCode == http.StatusNoContent {
		if len(body) != 0 {
			return fmt.Errorf("%s %s: 204 with a body", req.Method, req.URL.Path)
		}
		return nil
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("%s %s: v1.0 success Content-Type %q, want application/json", req.Method, req.URL.Path, ct)
	}
	if resp.Header.Get("Deprecation") != "" || resp.Header.Get("Sunset") != "" {
		return fmt.Errorf("%s %s: v1.0 responses carry no version deprecation headers", req.Method, req.URL.Path)
	}
	var generic map[string]any
	if err := json.Unmarshal(body, &generic); err != nil {
		return fmt.Errorf("%s %s: v1.0 body is not a JSON object: %w", req.Method, req.URL.Path, err)
	}
	if hasStateReason(generic) {
		return fmt.Errorf("%s %s: v1.0 export job carries stateReason (v1.0 says errMsg): %s", req.Method, req.URL.Path, truncate(body))
	}
	status := resp.StatusCode
	if req.URL.Query().Get("envelope") == "true" {
		if body, status, err = unwrapEnvelope(body); err != nil {
			return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	specReq := req.Clone(context.Background())
	u, _ := url.Parse(specServer + "/api/atlas/v2/" + strings.TrimPrefix(req.URL.RequestURI(), legacyPrefix))
	specReq.URL, specReq.Host = u, u.Host
	route, params, err := rtr.FindRoute(specReq)
	if err != nil {
		return nil
	}
	header := resp.Header.Clone()
	header.Set("Content-Type", legacyAsVersion)
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: specReq, PathParams: params, Route: route},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("v1.0 %s %s → %d does not match the 2023-01-01 schema: %w\nbody: %s", req.Method, req.URL.Path, status, err, truncate(body))
	}
	return nil
}

// hasStateReason reports whether a v1.0 body (one job, a page of them, or
// either under envelope) carries the v2-only stateReason field.
func hasStateReason(v map[string]any) bool {
	if _, ok := v["stateReason"]; ok {
		return true
	}
	if content, ok := v["content"].(map[string]any); ok {
		return hasStateReason(content)
	}
	results, _ := v["results"].([]any)
	for _, r := range results {
		if m, ok := r.(map[string]any); ok {
			if _, ok := m["stateReason"]; ok {
				return true
			}
		}
	}
	return false
}
