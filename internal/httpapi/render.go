package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/snapex/snapex/internal/atlas"
)

// apiError is the ApiError body; fields in Atlas's (alphabetical) order.
type apiError struct {
	Detail     string   `json:"detail"`
	Error      int      `json:"error"`
	ErrorCode  string   `json:"errorCode"`
	Parameters []string `json:"parameters"`
	Reason     string   `json:"reason"`
}

// format carries the per-request output options.
type format struct {
	envelope bool
	pretty   bool
}

func formatOf(r *http.Request) format {
	// Invalid values were already answered 400 by checkFormat; rendering
	// that very error falls back to the defaults.
	envelope, _ := queryBool(r, "envelope", false)
	pretty, _ := queryBool(r, "pretty", false)
	return format{envelope: envelope, pretty: pretty}
}

// writeError renders e as an ApiError with Content-Type application/json
// and X-Error-Code, as Atlas does on every error. Under envelope=true the
// HTTP status stays the error's, since the body already carries it.
func writeError(w http.ResponseWriter, r *http.Request, e *atlas.Error) {
	detail, params := capEcho(e)
	body := apiError{Detail: detail, Error: e.Status, ErrorCode: string(e.Code), Parameters: params, Reason: http.StatusText(e.Status)}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Error-Code", string(e.Code))
	writeBody(w, e.Status, body, formatOf(r).pretty)
}

// writeResource renders a single resource with the negotiated version's
// media type; under envelope=true it becomes {"status", "content"} with 200.
func writeResource(w http.ResponseWriter, r *http.Request, v apiVersion, status int, resource any) {
	f := formatOf(r)
	v.setHeaders(w.Header())
	if f.envelope {
		writeBody(w, http.StatusOK, envelope{Content: resource, Status: status}, f.pretty)
		return
	}
	writeBody(w, status, resource, f.pretty)
}

// writeNoContent answers 204 with the version's media type and no body;
// under envelope=true, 200 with {"status":204}.
func writeNoContent(w http.ResponseWriter, r *http.Request, v apiVersion) {
	f := formatOf(r)
	v.setHeaders(w.Header())
	if f.envelope {
		writeBody(w, http.StatusOK, envelope{Status: http.StatusNoContent}, f.pretty)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type envelope struct {
	Content any `json:"content,omitempty"`
	Status  int `json:"status"`
}

func writeBody(w http.ResponseWriter, status int, body any, pretty bool) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(body); err != nil {
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"detail":"Unexpected error.","error":500,"errorCode":"UNEXPECTED_ERROR","parameters":[],"reason":"Internal Server Error"}`)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Error-Code", string(atlas.CodeUnexpectedError))
	}
	out := buf.Bytes()
	if !pretty {
		out = bytes.TrimRight(out, "\n")
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}
