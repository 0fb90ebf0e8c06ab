// Package faultproxy is a fault-injecting HTTP reverse proxy for tests.
//
// A Proxy listens on 127.0.0.1 (a random port) and forwards every request
// to a real object store — versitygw, Azurite, fake-gcs-server — unless
// its Rule picks a Fault for the request. Point a client's endpoint at
// Proxy.URL instead of the store's and program the faults:
//
//	p := faultproxy.New(target)
//	defer p.Close()
//	p.SetRule(faultproxy.Nth(faultproxy.S3UploadPart, faultproxy.SlowDown, 1, 3))
//	... run the client against p.URL ...
//	if p.Count() == 0 { t.Fatal("no fault was injected") }
//
// The faults are the ways a store or the network fails: a connection reset,
// an HTTP error with the store's own error body (500, 503, S3 SlowDown,
// Azure ServerBusy, 403 AccessDenied), a stall that outlasts the client's
// patience, and a truncated response. Error bodies are written in the
// dialect of the store the request is for (S3 XML, Azure XML with
// x-ms-error-code, GCS JSON), recognised from the request itself.
//
// The proxy keeps the client's Host header, so request signatures computed
// for the proxy's address (S3 SigV4) stay valid, and it rewrites Location
// headers that point at the target (GCS resumable-upload sessions) so that
// follow-up requests come through the proxy too. Every request is
// recorded, with the fault injected into it if any.
package faultproxy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kind is the class of a fault.
type Kind string

// The kinds of faults.
const (
	// KindReset closes the client's connection abruptly (TCP RST) without
	// answering, before the request reaches the store.
	KindReset Kind = "reset"
	// KindError answers with Fault.Status and an error body naming
	// Fault.Code in the store's dialect; the store never sees the request.
	KindError Kind = "error"
	// KindStall reads the request and then answers nothing for
	// Fault.Stall (or until the client gives up), then resets the
	// connection; the store never sees the request.
	KindStall Kind = "stall"
	// KindTruncate forwards the request to the store, then sends the
	// store's status and headers with a Content-Length larger than the
	// body, only the first half of the body, and closes the connection.
	// The store has done the work; the client cannot know it.
	KindTruncate Kind = "truncate"
)

// Fault is what the proxy does to one request instead of forwarding it.
// The zero Fault means "forward the request unchanged".
type Fault struct {
	Kind Kind
	// Status is the HTTP status of a KindError answer.
	Status int
	// Code is the store's error code in a KindError body, such as
	// "SlowDown", "ServerBusy" or "AccessDenied".
	Code string
	// Stall is how long a KindStall request is held before the proxy
	// resets it; it should exceed the client's timeout.
	Stall time.Duration
}

// IsZero reports whether f forwards the request.
func (f Fault) IsZero() bool { return f.Kind == "" }

// String names the fault, e.g. "error 503 SlowDown" or "stall 5s".
func (f Fault) String() string {
	switch f.Kind {
	case "":
		return "none"
	case KindError:
		return fmt.Sprintf("error %d %s", f.Status, f.Code)
	case KindStall:
		return fmt.Sprintf("stall %s", f.Stall)
	}
	return string(f.Kind)
}

// The usual faults.
var (
	// Reset drops the connection.
	Reset = Fault{Kind: KindReset}
	// InternalError is a 500 with code InternalError.
	InternalError = Fault{Kind: KindError, Status: http.StatusInternalServerError, Code: "InternalError"}
	// Unavailable is a 503 with code ServiceUnavailable.
	Unavailable = Fault{Kind: KindError, Status: http.StatusServiceUnavailable, Code: "ServiceUnavailable"}
	// SlowDown is S3's throttling answer: 503 with code SlowDown.
	SlowDown = Fault{Kind: KindError, Status: http.StatusServiceUnavailable, Code: "SlowDown"}
	// ServerBusy is Azure's throttling answer: 503 with code ServerBusy.
	ServerBusy = Fault{Kind: KindError, Status: http.StatusServiceUnavailable, Code: "ServerBusy"}
	// AccessDenied is a permanent refusal: 403 with code AccessDenied
	// (AuthorizationPermissionMismatch in Azure's dialect, reason
	// "forbidden" in GCS's).
	AccessDenied = Fault{Kind: KindError, Status: http.StatusForbidden, Code: "AccessDenied"}
	// TooManyRequests is a 429, GCS's throttling answer (reason
	// rateLimitExceeded in its dialect).
	TooManyRequests = Fault{Kind: KindError, Status: http.StatusTooManyRequests, Code: "TooManyRequests"}
	// Truncate cuts the store's answer short.
	Truncate = Fault{Kind: KindTruncate}
)

// Stall returns a fault that holds a request for d, then resets it.
func Stall(d time.Duration) Fault { return Fault{Kind: KindStall, Stall: d} }

// Entry records one request the proxy received.
type Entry struct {
	// Seq numbers the requests from 1 in arrival order.
	Seq    int
	Method string
	// Path and Query are the request's URL path and raw query.
	Path, Query string
	// Fault is what was injected; the zero Fault if the request was
	// forwarded unchanged.
	Fault Fault
	// Status is the status the client was sent (the store's, or the
	// injected one); 0 for resets, stalls and forwarding failures.
	Status int
	// Header is the request's header.
	Header http.Header
	// ClientGaveUp reports, for a stall, that the client abandoned the
	// request before the stall ended (its timeout fired).
	ClientGaveUp bool
	// Held is how long a stalled request was held.
	Held time.Duration
}

// Proxy is a running fault-injecting reverse proxy.
type Proxy struct {
	// URL is the proxy's base URL, http://127.0.0.1:PORT.
	URL *url.URL

	target    *url.URL
	srv       *httptest.Server
	transport *http.Transport
	closing   chan struct{}
	closeOnce sync.Once

	mu   sync.Mutex
	rule Rule
	log  []Entry
}

// New starts a proxy forwarding to target (scheme and host are used; the
// request's path is kept). Close it when done.
func New(target *url.URL) *Proxy {
	p := &Proxy{
		target:    &url.URL{Scheme: target.Scheme, Host: target.Host},
		transport: http.DefaultTransport.(*http.Transport).Clone(),
		closing:   make(chan struct{}),
	}
	p.transport.Proxy = nil
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL, _ = url.Parse(p.srv.URL)
	return p
}

// Close stops the proxy, ending held stalls.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() { close(p.closing) })
	p.srv.CloseClientConnections()
	p.srv.Close()
	p.transport.CloseIdleConnections()
}

// SetRule replaces the rule choosing faults; nil forwards everything.
func (p *Proxy) SetRule(r Rule) {
	p.mu.Lock()
	p.rule = r
	p.mu.Unlock()
}

// Log returns every request received so far.
func (p *Proxy) Log() []Entry {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Entry(nil), p.log...)
}

// Injections returns the requests that got a fault, of the given kinds
// (any kind when none is given).
func (p *Proxy) Injections(kinds ...Kind) []Entry {
	var out []Entry
	for _, e := range p.Log() {
		if e.Fault.IsZero() {
			continue
		}
		if len(kinds) == 0 {
			out = append(out, e)
			continue
		}
		for _, k := range kinds {
			if e.Fault.Kind == k {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

// Count returns how many faults of the given kinds (any kind when none
// is given) were injected.
func (p *Proxy) Count(kinds ...Kind) int { return len(p.Injections(kinds...)) }

// Matching returns how many received requests m matches.
func (p *Proxy) Matching(m Match) int {
	n := 0
	for _, e := range p.Log() {
		if m(e.Request()) {
			n++
		}
	}
	return n
}

// Clear forgets the requests received so far.
func (p *Proxy) Clear() {
	p.mu.Lock()
	p.log = nil
	p.mu.Unlock()
}

// Request rebuilds the recorded request (without its body), for Match
// functions.
func (e Entry) Request() *http.Request {
	return &http.Request{Method: e.Method, URL: &url.URL{Path: e.Path, RawQuery: e.Query}, Header: e.Header}
}

func (p *Proxy) update(i int, f func(*Entry)) {
	p.mu.Lock()
	f(&p.log[i])
	p.mu.Unlock()
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	var f Fault
	if p.rule != nil {
		f = p.rule(r)
	}
	i := len(p.log)
	p.log = append(p.log, Entry{Seq: i + 1, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Fault: f})
	p.mu.Unlock()
	switch f.Kind {
	case KindReset:
		reset(w)
	case KindError:
		_, _ = io.Copy(io.Discard, r.Body)
		writeError(w, r, f)
		p.update(i, func(e *Entry) { e.Status = f.Status })
	case KindStall:
		_, _ = io.Copy(io.Discard, r.Body)
		start := time.Now()
		timer := time.NewTimer(f.Stall)
		defer timer.Stop()
		gaveUp := false
		select {
		case <-r.Context().Done():
			gaveUp = true
		case <-timer.C:
		case <-p.closing:
		}
		held := time.Since(start)
		p.update(i, func(e *Entry) { e.ClientGaveUp, e.Held = gaveUp, held })
		if !gaveUp {
			reset(w)
		}
	default:
		status := p.forward(w, r, f.Kind == KindTruncate)
		p.update(i, func(e *Entry) { e.Status = status })
	}
}

// hopHeaders are connection-level headers a proxy does not pass on.
var hopHeaders = []string{"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Proxy-Connection", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

// forward sends r to the target and copies the answer back (truncated if
// asked); it returns the store's status, or 0 if the store could not be
// reached.
func (p *Proxy) forward(w http.ResponseWriter, r *http.Request, truncate bool) int {
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.URL.Scheme, out.URL.Host = p.target.Scheme, p.target.Host
	out.Host = r.Host // signatures cover the Host the client used
	if r.ContentLength == 0 {
		out.Body = nil
	}
	for _, h := range hopHeaders {
		out.Header.Del(h)
	}
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		return 0
	}
	defer resp.Body.Close()
	for _, h := range hopHeaders {
		resp.Header.Del(h)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		resp.Header.Set("Location", p.rewrite(loc))
	}
	if truncate {
		body, _ := io.ReadAll(resp.Body)
		truncated(w, resp, body)
		return resp.StatusCode
	}
	for k, vs := range resp.Header {
		w.Header()[k] = vs
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
	return resp.StatusCode
}

// rewrite points a URL on the target at the proxy instead.
func (p *Proxy) rewrite(loc string) string {
	u, err := url.Parse(loc)
	if err != nil || u.Host != p.target.Host {
		return loc
	}
	u.Scheme, u.Host = p.URL.Scheme, p.URL.Host
	return u.String()
}

// reset closes the client's connection with a TCP RST.
func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// truncated writes resp's status and headers declaring more body than
// follows, half of body, and closes the connection.
func truncated(w http.ResponseWriter, resp *http.Response, body []byte) {
	conn, bw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	h := resp.Header.Clone()
	h.Set("Content-Length", strconv.Itoa(len(body)+64))
	h.Set("Connection", "close")
	fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", resp.StatusCode, http.StatusText(resp.StatusCode))
	_ = h.Write(bw)
	_, _ = bw.WriteString("\r\n")
	_, _ = bw.Write(body[:len(body)/2])
	_ = bw.Flush()
}

// dialect is the error format of a store.
type dialect int

const (
	dialectS3 dialect = iota
	dialectAzure
	dialectGCS
)

// dialectOf tells which store a request is meant for: Azure requests
// carry x-ms-version, GCS JSON-API paths start with /storage/v1/ or
// /upload/storage/v1/, everything else is S3.
func dialectOf(r *http.Request) dialect {
	switch {
	case r.Header.Get("X-Ms-Version") != "":
		return dialectAzure
	case strings.HasPrefix(r.URL.Path, "/storage/v1/"), strings.HasPrefix(r.URL.Path, "/upload/storage/v1/"),
		strings.HasPrefix(r.URL.Path, "/batch/storage/v1"):
		return dialectGCS
	}
	return dialectS3
}

// writeError answers with f's status and an error body in r's dialect.
func writeError(w http.ResponseWriter, r *http.Request, f Fault) {
	msg := "faultproxy injected " + f.Code
	switch dialectOf(r) {
	case dialectAzure:
		code := f.Code
		if code == "AccessDenied" {
			code = "AuthorizationPermissionMismatch"
		}
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("x-ms-error-code", code)
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>%s</Code><Message>%s</Message></Error>", code, msg)
	case dialectGCS:
		reason := map[int]string{http.StatusForbidden: "forbidden", http.StatusTooManyRequests: "rateLimitExceeded",
			http.StatusInternalServerError: "backendError", http.StatusServiceUnavailable: "backendError"}[f.Status]
		if reason == "" {
			reason = "error"
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, `{"error":{"code":%d,"message":%q,"errors":[{"domain":"global","reason":%q,"message":%q}]}}`, f.Status, msg, reason, msg)
	default:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(f.Status)
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message><Resource>%s</Resource><RequestId>faultproxy</RequestId></Error>",
			f.Code, msg, r.URL.Path)
	}
}

// A Rule chooses the fault for a request, or returns the zero Fault to
// forward it. The proxy calls its rule for one request at a time, so a
// rule may keep state (counters, a random source) without locking; it
// must not read the request body.
type Rule func(r *http.Request) Fault

// A Match selects requests. It sees only the method, URL and headers.
type Match func(r *http.Request) bool

// Nth injects f into the listed matching requests, counting from 1.
func Nth(m Match, f Fault, ns ...int) Rule {
	seen := 0
	want := map[int]bool{}
	for _, n := range ns {
		want[n] = true
	}
	return func(r *http.Request) Fault {
		if !m(r) {
			return Fault{}
		}
		seen++
		if want[seen] {
			return f
		}
		return Fault{}
	}
}

// From injects f into the nth matching request and every later one.
func From(m Match, f Fault, n int) Rule {
	seen := 0
	return func(r *http.Request) Fault {
		if !m(r) {
			return Fault{}
		}
		seen++
		if seen >= n {
			return f
		}
		return Fault{}
	}
}

// Always injects f into every matching request.
func Always(m Match, f Fault) Rule { return From(m, f, 1) }

// Chance injects f into each matching request with probability prob,
// drawn from a source seeded with seed, so a run is reproducible when
// requests arrive in the same order.
func Chance(m Match, f Fault, prob float64, seed uint64) Rule {
	// SplitMix64 keeps the sequence stable across Go versions, and
	// nearby seeds give unrelated sequences.
	state := seed
	return func(r *http.Request) Fault {
		if !m(r) {
			return Fault{}
		}
		state += 0x9e3779b97f4a7c15
		z := state
		z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
		z = (z ^ z>>27) * 0x94d049bb133111eb
		z ^= z >> 31
		if float64(z>>11)/float64(1<<53) < prob {
			return f
		}
		return Fault{}
	}
}

// AtMost stops rule r after it has injected n faults.
func AtMost(n int, r Rule) Rule {
	done := 0
	return func(req *http.Request) Fault {
		if done >= n {
			return Fault{}
		}
		f := r(req)
		if !f.IsZero() {
			done++
		}
		return f
	}
}

// First asks each rule in turn and injects the first fault chosen.
// Every rule up to that one sees the request.
func First(rules ...Rule) Rule {
	return func(r *http.Request) Fault {
		for _, rule := range rules {
			if f := rule(r); !f.IsZero() {
				return f
			}
		}
		return Fault{}
	}
}

// Method matches requests with method m.
func Method(m string) Match { return func(r *http.Request) bool { return r.Method == m } }

// HasQuery matches requests whose query has parameter key.
func HasQuery(key string) Match { return func(r *http.Request) bool { return r.URL.Query().Has(key) } }

// Query matches requests whose query parameter key equals value.
func Query(key, value string) Match {
	return func(r *http.Request) bool { return r.URL.Query().Get(key) == value }
}

// PathContains matches requests whose path (or, for GCS uploads, the
// object name in the query) contains s.
func PathContains(s string) Match {
	return func(r *http.Request) bool {
		return strings.Contains(r.URL.Path, s) || strings.Contains(r.URL.Query().Get("name"), s)
	}
}

// All matches requests every m matches.
func All(ms ...Match) Match {
	return func(r *http.Request) bool {
		for _, m := range ms {
			if !m(r) {
				return false
			}
		}
		return true
	}
}

// Not matches requests m does not match.
func Not(m Match) Match { return func(r *http.Request) bool { return !m(r) } }

// Requests of the stores' upload protocols.
var (
	// S3UploadPart is an S3 UploadPart: PUT ?partNumber=N&uploadId=ID.
	S3UploadPart = All(Method(http.MethodPut), HasQuery("partNumber"), HasQuery("uploadId"))
	// S3PutObject is a single-request S3 PutObject with path-style
	// addressing: PUT /BUCKET/KEY without partNumber or uploadId.
	S3PutObject = All(Method(http.MethodPut), Not(HasQuery("uploadId")), Not(HasQuery("partNumber")),
		func(r *http.Request) bool { return strings.Contains(strings.Trim(r.URL.Path, "/"), "/") })
	// S3CreateMultipart is CreateMultipartUpload: POST ?uploads.
	S3CreateMultipart = All(Method(http.MethodPost), HasQuery("uploads"))
	// S3CompleteMultipart is CompleteMultipartUpload: POST ?uploadId=ID.
	S3CompleteMultipart = All(Method(http.MethodPost), HasQuery("uploadId"))
	// AzurePutBlock stages a block: PUT ?comp=block.
	AzurePutBlock = All(Method(http.MethodPut), Query("comp", "block"))
	// AzurePutBlockList commits staged blocks: PUT ?comp=blocklist.
	AzurePutBlockList = All(Method(http.MethodPut), Query("comp", "blocklist"))
	// AzurePutBlob is a single-request Put Blob: PUT without comp.
	AzurePutBlob = All(Method(http.MethodPut), Not(HasQuery("comp")), Not(Query("restype", "container")))
	// GCSUpload is any request of the GCS upload API (/upload/storage/v1/):
	// single-request uploads, resumable-session starts and chunks.
	GCSUpload Match = func(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/upload/storage/v1/") }
	// GCSChunk is a request of an open resumable upload session (a chunk,
	// or a status query): ?upload_id=ID. The storage client sends chunks
	// with POST or PUT.
	GCSChunk = All(GCSUpload, HasQuery("upload_id"))
)
