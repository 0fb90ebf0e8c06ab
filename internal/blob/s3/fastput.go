package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyauth "github.com/aws/smithy-go/auth"
	"github.com/aws/smithy-go/encoding/httpbinding"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/snapex/snapex/internal/blob/internal/parts"
)

// An export of many small collections writes two small objects per
// collection, and for those the SDK's per-request machinery costs more
// CPU than the request itself: PutObject builds a stack of some thirty
// middlewares per call (endpoint resolution, checksum set-up, retry
// bookkeeping, metrics, response inspection), about a third of the
// client's CPU per small PUT against versitygw (measured: 0.29–0.37 ms
// per 3 KiB PUT with the SDK, 0.22–0.26 ms with a signed net/http PUT,
// 16 in flight) — and on a machine shared with the store, CPU is what
// bounds such an export. So a small object is first sent as one plain PUT
// signed with the SDK's own SigV4 signer, to the bucket URL the SDK's own
// endpoint resolver gives, over the SDK client's HTTP client (the same
// connections). Only the first attempt is made this way: on any failure
// the object goes through PutObject, whose retryer, error classification
// and clock-skew handling then apply unchanged (a PUT is idempotent, so
// repeating one that may have landed is harmless). An answer that may mean
// the fast path itself is wrong for this store (400, 403) turns it off
// for the bucket for good.
//
// Integrity: the body's SHA-256 is signed (x-amz-content-sha256), which S3
// verifies before storing the object, so a corrupted body is refused as
// the SDK's CRC32 would have it refused.

// fastPutMax is the largest object sent by the fast path: above it the
// per-request overhead no longer matters and hashing the body would.
const fastPutMax = 1 << 20

// fastPutter sends small objects as signed plain PUTs.
type fastPutter struct {
	hc     aws.HTTPClient
	creds  aws.CredentialsProvider
	signer *v4.Signer
	region string // the signing region
	base   string // the bucket's URL, without a trailing slash
	sse    string
	kms    string

	off  atomic.Bool  // turned off after an answer that questions it
	sent atomic.Int64 // objects written by the fast path (tests)
}

// newFastPutter returns the fast path for the client's bucket, or nil when
// the client's configuration is one the fast path does not reproduce
// exactly (FIPS, dual-stack or accelerated endpoints, ARNs, signing other
// than plain SigV4 for "s3"), in which case every object uses PutObject.
func newFastPutter(ctx context.Context, client *s3.Client, opts Options) *fastPutter {
	o := client.Options()
	if o.HTTPClient == nil || o.Credentials == nil || o.UseAccelerate || strings.Contains(opts.Bucket, ":") ||
		o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled ||
		o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled {
		return nil
	}
	params := s3.EndpointParameters{
		Bucket:         aws.String(opts.Bucket),
		Region:         aws.String(o.Region),
		Endpoint:       o.BaseEndpoint,
		ForcePathStyle: aws.Bool(o.UsePathStyle),
		UseFIPS:        aws.Bool(false),
		UseDualStack:   aws.Bool(false),
		Accelerate:     aws.Bool(false),
	}
	ep, err := s3.NewDefaultEndpointResolverV2().ResolveEndpoint(ctx, params)
	if err != nil || ep.URI.Scheme == "" || ep.URI.RawQuery != "" || len(ep.Headers) > 0 {
		return nil
	}
	region, ok := sigV4Region(ep.Properties)
	if !ok {
		return nil
	}
	return &fastPutter{
		hc:     o.HTTPClient,
		creds:  o.Credentials,
		signer: v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true }),
		region: region,
		base:   strings.TrimSuffix(ep.URI.String(), "/"),
		sse:    opts.SSE,
		kms:    opts.KMSKeyID,
	}
}

// sigV4Region is the signing region of an endpoint whose first auth
// option is plain SigV4 for the "s3" service (S3 signs paths without
// double-encoding them, as the fast path's signer is set to).
func sigV4Region(props smithy.Properties) (string, bool) {
	options, ok := smithyauth.GetAuthOptions(&props)
	// Endpoint rules name the scheme "sigv4"; the resolved auth options
	// of an operation use the full scheme id.
	if !ok || len(options) == 0 || (options[0].SchemeID != "sigv4" && options[0].SchemeID != smithyauth.SchemeIDSigV4) {
		return "", false
	}
	if name, ok := smithyhttp.GetSigV4SigningName(&options[0].SignerProperties); ok && name != "s3" {
		return "", false
	}
	region, ok := smithyhttp.GetSigV4SigningRegion(&options[0].SignerProperties)
	if !ok || region == "" {
		return "", false
	}
	return region, true
}

// fastOutcome is how a fast PUT ended.
type fastOutcome int

const (
	// fastNotTried: the fast path was off or not eligible; PutObject
	// makes every attempt.
	fastNotTried fastOutcome = iota
	// fastDone: the object is written.
	fastDone
	// fastFailed: one attempt was spent; PutObject makes the others.
	fastFailed
)

// put tries to write data under key with one request. An error is
// returned only when ctx ended; any other failure leaves the object to
// PutObject.
func (f *fastPutter) put(ctx context.Context, key string, data []byte, contentType string) (fastOutcome, error) {
	if f == nil || f.off.Load() || len(data) > fastPutMax {
		return fastNotTried, nil
	}
	creds, err := f.creds.Retrieve(ctx)
	if err != nil || !creds.HasKeys() {
		return fastNotTried, ctx.Err()
	}
	var body io.Reader = http.NoBody // a nil or empty body would be sent chunked
	if len(data) > 0 {
		b := parts.NewBody(data)
		defer b.Fence()
		body = b
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, f.base+"/"+httpbinding.EscapePath(key, false), body)
	if err != nil {
		return fastNotTried, nil
	}
	req.ContentLength = int64(len(data))
	if b, ok := body.(*parts.Body); ok {
		req.GetBody = func() (io.ReadCloser, error) {
			if _, err := b.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
			return b, nil
		}
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if f.sse != "" {
		req.Header.Set("X-Amz-Server-Side-Encryption", f.sse)
		if f.kms != "" {
			req.Header.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", f.kms)
		}
	}
	if err := f.signer.SignHTTP(ctx, creds, req, hash, "s3", f.region, time.Now().UTC()); err != nil {
		return fastNotTried, nil
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return fastFailed, ctx.Err()
	}
	// Read the (small) answer to the end so the connection is reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode/100 == 2:
		f.sent.Add(1)
		return fastDone, nil
	case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusForbidden:
		// Possibly the fast path's own doing (a signature or request
		// the store reads differently): off for good, and PutObject
		// gets every attempt.
		f.off.Store(true)
		return fastNotTried, ctx.Err()
	}
	return fastFailed, ctx.Err()
}
