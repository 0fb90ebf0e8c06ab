package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
)

// The Atlas SDK decodes only Atlas's fields, so the snapexProgress
// extension is read from the raw body of the same response: a poll puts
// a bodySink in its request's context and the transport below copies the
// body there. Real Atlas sends no extension; the watch then shows
// Atlas's fields alone.

type bodySinkKey struct{}

// bodySink receives the body of the response to a request made with its
// context.
type bodySink struct{ body []byte }

// withBodySink returns ctx carrying a new sink.
func withBodySink(ctx context.Context) (context.Context, *bodySink) {
	s := &bodySink{}
	return context.WithValue(ctx, bodySinkKey{}, s), s
}

// teeTransport copies response bodies into the request's bodySink.
type teeTransport struct{ next http.RoundTripper }

func (t teeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	sink, _ := r.Context().Value(bodySinkKey{}).(*bodySink)
	if err != nil || sink == nil || resp.Body == nil {
		return resp, err
	}
	// Poll responses are one resource (kilobytes); cap it anyway.
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	sink.body = body
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// wrapHTTPClient returns a copy of c whose transport fills body sinks.
func wrapHTTPClient(c *http.Client) *http.Client {
	if c == nil {
		c = &http.Client{}
	}
	out := *c
	next := out.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	out.Transport = teeTransport{next: next}
	return &out
}

// extension is the snapexProgress object of an export job or snapshot,
// and why a snapshot failed (Atlas's snapshot has no field saying so).
type extension struct {
	SnapexFailureReason string `json:"snapexFailureReason"`
	SnapexProgress      *struct {
		DocumentsExported int64  `json:"documentsExported"`
		DocumentsCaptured int64  `json:"documentsCaptured"`
		DocumentsTotal    int64  `json:"documentsTotal"`
		BytesExported     int64  `json:"bytesExported"`
		BytesCaptured     int64  `json:"bytesCaptured"`
		BytesTotal        int64  `json:"bytesTotal"`
		CollectionsDone   int    `json:"collectionsDone"`
		CollectionsTotal  int    `json:"collectionsTotal"`
		Attempt           int    `json:"attempt"`
		LastError         string `json:"lastError"`
		NextAttemptAt     string `json:"nextAttemptAt"`
		Components        []struct {
			ReplicaSetName    string `json:"replicaSetName"`
			DocumentsExported int64  `json:"documentsExported"`
			DocumentsTotal    int64  `json:"documentsTotal"`
			BytesExported     int64  `json:"bytesExported"`
			BytesTotal        int64  `json:"bytesTotal"`
		} `json:"components"`
	} `json:"snapexProgress"`
}

// addExtension fills p's extension fields from a response body; a body
// without them (real Atlas) leaves p as it is.
func addExtension(p *Progress, body []byte) {
	var x extension
	if len(body) == 0 || json.Unmarshal(body, &x) != nil {
		return
	}
	if x.SnapexFailureReason != "" && p.Reason == "" {
		p.Reason = x.SnapexFailureReason
	}
	if x.SnapexProgress == nil {
		return
	}
	e := x.SnapexProgress
	p.Extended = true
	p.Documents, p.DocumentsTotal = e.DocumentsExported+e.DocumentsCaptured, e.DocumentsTotal
	p.Bytes, p.BytesTotal = e.BytesExported+e.BytesCaptured, e.BytesTotal
	p.Attempt, p.LastError, p.NextAttemptAt = e.Attempt, e.LastError, e.NextAttemptAt
	for _, c := range e.Components {
		p.Components = append(p.Components, ComponentProgress{ReplicaSet: c.ReplicaSetName,
			Documents: c.DocumentsExported, DocumentsTotal: c.DocumentsTotal, Bytes: c.BytesExported, BytesTotal: c.BytesTotal})
	}
	if e.CollectionsTotal > 0 {
		p.Done, p.Total = e.CollectionsDone, e.CollectionsTotal
	}
}

// failureReason is a snapshot's snapexFailureReason in a response body,
// or "" (a snapshot that did not fail, or real Atlas).
func failureReason(body []byte) string {
	var x extension
	if json.Unmarshal(body, &x) != nil {
		return ""
	}
	return x.SnapexFailureReason
}
