// Package azure is the blob driver for Azure Blob Storage (and Azurite),
// on azblob.
//
// Writers stream in blocks: an object that fits in one block is sent with a
// single Put Blob; a larger one is staged block by block (Put Block in the
// background while the next block fills) and made visible by Put Block
// List on Close. The block size starts at Options.BlockSize and doubles
// every 2,500 blocks up to 4000 MiB, staying within Azure's 50,000-block
// limit. Each writer uses its own random block ids, so concurrent writers
// of one key never mix blocks. Aborting simply never commits the staged
// blocks; Azure discards uncommitted blocks after a week, and they are
// never visible.
//
// Every request, block uploads included, is retried by azcore's retry
// policy (exponential backoff with jitter) up to Options.MaxAttempts
// tries; reads resume after a broken connection.
//
// Credentials: a shared key (AccountName + AccountKey), a SAS token, or,
// when neither is given, azidentity's DefaultAzureCredential (environment,
// workload identity, managed identity, Azure CLI), which needs HTTPS.
package azure

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	azblob "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/bloberror"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/internal/httpx"
	"github.com/snapex/snapex/internal/blob/internal/parts"
)

// Block-size limits of Azure block blobs.
const (
	// DefaultBlockSize is the first block size when Options.BlockSize is 0.
	DefaultBlockSize = 8 << 20
	// MinBlockSize is the smallest block size accepted in Options.
	MinBlockSize = 64 << 10
	// MaxBlockSize is the largest block Azure accepts (4000 MiB).
	MaxBlockSize = 4000 << 20
	// MaxBlocks is the most committed blocks a blob may have.
	MaxBlocks = 50000
	// DefaultMaxAttempts is the number of tries per request when
	// Options.MaxAttempts is 0.
	DefaultMaxAttempts = 5
)

// Options configures an Azure container.
type Options struct {
	// ServiceURL is the storage account's blob endpoint, optionally
	// followed by the container: https://ACCOUNT.blob.core.windows.net or
	// https://ACCOUNT.blob.core.windows.net/CONTAINER. For path-style
	// endpoints (an IP address or localhost host, as Azurite uses) the
	// first path segment is the account:
	// http://127.0.0.1:10000/devstoreaccount1/CONTAINER. A query string
	// is taken as the SAS token. Required.
	ServiceURL string
	// Container is the container name; it may be omitted when ServiceURL
	// ends with it, and must match it when both are given.
	Container string
	// AccountName and AccountKey select shared-key authentication.
	// AccountName defaults to the account in ServiceURL.
	AccountName string
	AccountKey  string
	// SASToken selects SAS authentication (the query string, with or
	// without the leading "?").
	SASToken string
	// TenantID is passed to DefaultAzureCredential, used when neither a
	// key nor a SAS token is given.
	TenantID string
	// BlockSize is the first block size, at least 64 KiB; 0 means 8 MiB.
	BlockSize int64
	// Concurrency is how many blocks of one object may upload while the
	// next fills; 0 means 1. Each writer holds up to Concurrency+1 blocks
	// in memory.
	Concurrency int
	// MaxAttempts is the number of tries per request, retries included;
	// 0 means 5.
	MaxAttempts int
	// RequestTimeout bounds how long the store may take to start answering
	// a request; 0 means httpx.DefaultRequestTimeout. A timed-out request
	// is retried like any transient failure.
	RequestTimeout time.Duration
}

// Open returns a Bucket for the container. It makes no request: a missing
// container or wrong credentials show on the first operation.
func Open(opts Options) (blob.Bucket, error) {
	d, err := newDriver(opts, nil)
	if err != nil {
		return nil, err
	}
	return blob.New(d), nil
}

type driver struct {
	client   *container.Client
	name     string // container URL without credentials
	parts    parts.Config
	pageSize int32 // list page size (tests lower it)
}

func invalid(name, format string, args ...any) error {
	return &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: name, Err: fmt.Errorf("azure: "+format, args...)}
}

// endpoint is a parsed ServiceURL.
type endpoint struct {
	base      string // scheme://host[/account]
	account   string
	container string
	query     string
}

func parseServiceURL(raw, containerOpt string) (endpoint, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return endpoint{}, fmt.Errorf("ServiceURL %q is not an http(s) URL", raw)
	}
	var segs []string
	for s := range strings.SplitSeq(u.Path, "/") {
		if s != "" {
			segs = append(segs, s)
		}
	}
	ep := endpoint{query: u.RawQuery}
	host := u.Hostname()
	_, ipErr := netip.ParseAddr(host)
	pathStyle := ipErr == nil || host == "localhost"
	base := u.Scheme + "://" + u.Host
	if pathStyle {
		if len(segs) == 0 {
			return endpoint{}, fmt.Errorf("ServiceURL %q has no account in its path (path-style endpoint)", raw)
		}
		ep.account, segs = segs[0], segs[1:]
		base += "/" + ep.account
	} else {
		ep.account, _, _ = strings.Cut(host, ".")
	}
	ep.base = base
	switch {
	case len(segs) > 1:
		return endpoint{}, fmt.Errorf("ServiceURL %q has more than a container in its path", raw)
	case len(segs) == 1 && containerOpt != "" && segs[0] != containerOpt:
		return endpoint{}, fmt.Errorf("ServiceURL %q names container %q but Container is %q", raw, segs[0], containerOpt)
	case len(segs) == 1:
		ep.container = segs[0]
	case containerOpt == "":
		return endpoint{}, fmt.Errorf("no container: set Container or end ServiceURL with it")
	default:
		ep.container = containerOpt
	}
	if strings.ContainsAny(ep.container, "/?#") {
		return endpoint{}, fmt.Errorf("container name %q is invalid", ep.container)
	}
	return ep, nil
}

// newDriver builds the driver; transport, if set, replaces the HTTP client
// (tests use it to count requests).
func newDriver(opts Options, transport policy.Transporter) (*driver, error) {
	ep, err := parseServiceURL(opts.ServiceURL, opts.Container)
	if err != nil {
		return nil, invalid(opts.ServiceURL, "%v", err)
	}
	containerURL := ep.base + "/" + ep.container
	sas := strings.TrimPrefix(opts.SASToken, "?")
	if sas != "" && ep.query != "" {
		return nil, invalid(containerURL, "SAS token given both in ServiceURL and in SASToken")
	}
	if sas == "" {
		sas = ep.query
	}
	if opts.AccountKey != "" && sas != "" {
		return nil, invalid(containerURL, "give either AccountKey or a SAS token, not both")
	}
	if opts.BlockSize == 0 {
		opts.BlockSize = DefaultBlockSize
	}
	if opts.BlockSize < MinBlockSize || opts.BlockSize > MaxBlockSize {
		return nil, invalid(containerURL, "BlockSize %d is outside [%d, %d]", opts.BlockSize, MinBlockSize, MaxBlockSize)
	}
	if opts.Concurrency < 0 || opts.MaxAttempts < 0 {
		return nil, invalid(containerURL, "Concurrency and MaxAttempts must not be negative")
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = 1
	}
	if opts.MaxAttempts == 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	copts := &container.ClientOptions{ClientOptions: azcore.ClientOptions{
		Retry: policy.RetryOptions{
			MaxRetries:    int32(opts.MaxAttempts - 1),
			RetryDelay:    500 * time.Millisecond,
			MaxRetryDelay: 20 * time.Second,
		},
		Transport: transport,
	}}
	if transport == nil {
		copts.Transport = httpx.Client(opts.RequestTimeout)
	}
	if opts.MaxAttempts == 1 {
		copts.Retry.MaxRetries = -1
	}
	var client *container.Client
	switch {
	case opts.AccountKey != "":
		account := opts.AccountName
		if account == "" {
			account = ep.account
		}
		cred, err := container.NewSharedKeyCredential(account, opts.AccountKey)
		if err != nil {
			return nil, invalid(containerURL, "shared key: %v", err)
		}
		client, err = container.NewClientWithSharedKeyCredential(containerURL, cred, copts)
		if err != nil {
			return nil, invalid(containerURL, "%v", err)
		}
	case sas != "":
		client, err = container.NewClientWithNoCredential(containerURL+"?"+sas, copts)
		if err != nil {
			return nil, invalid(containerURL, "%v", err)
		}
	default:
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{TenantID: opts.TenantID})
		if err != nil {
			return nil, &blob.Error{Kind: blob.KindPermissionDenied, Op: "open", Bucket: containerURL, Err: fmt.Errorf("azure: default credential: %w", err)}
		}
		client, err = container.NewClient(containerURL, tokenCredential{cred}, copts)
		if err != nil {
			return nil, invalid(containerURL, "%v", err)
		}
	}
	return &driver{
		client: client,
		name:   containerURL,
		parts: parts.Config{
			PartSize:    opts.BlockSize,
			MaxPartSize: MaxBlockSize,
			MaxParts:    MaxBlocks,
			GrowEvery:   2500,
			MaxInFlight: opts.Concurrency,
		},
		pageSize: 5000,
	}, nil
}

// tokenCredential marks token failures so that they classify as
// permission denied.
type tokenCredential struct{ azcore.TokenCredential }

func (c tokenCredential) GetToken(ctx context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, o)
	if err != nil {
		return tok, &credentialError{err}
	}
	return tok, nil
}

type credentialError struct{ err error }

func (e *credentialError) Error() string { return "get token: " + e.err.Error() }
func (e *credentialError) Unwrap() error { return e.err }

func (d *driver) Name() string { return d.name }

func headers(opts blob.WriterOptions) *azblob.HTTPHeaders {
	if opts.ContentType == "" {
		return nil
	}
	return &azblob.HTTPHeaders{BlobContentType: to.Ptr(opts.ContentType)}
}

func (d *driver) NewWriter(ctx context.Context, key string, opts blob.WriterOptions) (blob.Writer, error) {
	var id [16]byte
	_, _ = rand.Read(id[:])
	u := &upload{bb: d.client.NewBlockBlobClient(key), opts: opts, id: hex.EncodeToString(id[:])}
	return parts.NewWriter(ctx, u, d.parts), nil
}

func (d *driver) Put(ctx context.Context, key string, data []byte, opts blob.WriterOptions) error {
	if int64(len(data)) > d.parts.PartSize {
		// Staged blocks, as Put Blob has a size limit.
		w, err := d.NewWriter(ctx, key, opts)
		if err != nil {
			return err
		}
		return blob.WriteThrough(w, data)
	}
	u := &upload{bb: d.client.NewBlockBlobClient(key), opts: opts}
	body := parts.NewBody(data)
	defer body.Fence()
	return u.PutSingle(ctx, body)
}

// upload stages the blocks of one blob.
type upload struct {
	bb   *blockblob.Client
	opts blob.WriterOptions
	id   string // random per writer, so concurrent writers' blocks differ
}

// blockID returns the base64 id of block n; all ids of a writer have the
// same length, as Azure requires.
func (u *upload) blockID(n int) string {
	return base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "%s-%06d", u.id, n))
}

func (u *upload) Start(context.Context) error { return nil }

func (u *upload) UploadPart(ctx context.Context, n int, body *parts.Body) error {
	_, err := u.bb.StageBlock(ctx, u.blockID(n), body, nil)
	return convert(err)
}

func (u *upload) Complete(ctx context.Context, n int) error {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = u.blockID(i + 1)
	}
	_, err := u.bb.CommitBlockList(ctx, ids, &blockblob.CommitBlockListOptions{HTTPHeaders: headers(u.opts)})
	return convert(err)
}

// Abort leaves the staged blocks uncommitted: they are invisible and
// Azure garbage-collects them.
func (u *upload) Abort(context.Context) error { return nil }

func (u *upload) PutSingle(ctx context.Context, body *parts.Body) error {
	_, err := u.bb.Upload(ctx, body, &blockblob.UploadOptions{HTTPHeaders: headers(u.opts)})
	return convert(err)
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	resp, err := d.client.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, convert(err)
	}
	return &convReader{resp.NewRetryReader(ctx, &azblob.RetryReaderOptions{MaxRetries: 3})}, nil
}

// convReader shortens read errors.
type convReader struct{ r io.ReadCloser }

func (c *convReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = convert(err)
	}
	return n, err
}
func (c *convReader) Close() error { return convert(c.r.Close()) }

func (d *driver) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	p, err := d.client.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return blob.ObjectInfo{}, convert(err)
	}
	return blob.ObjectInfo{Key: key, Size: deref(p.ContentLength), ModTime: deref(p.LastModified)}, nil
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func (d *driver) ListPage(ctx context.Context, prefix, token string) ([]blob.ObjectInfo, string, error) {
	o := &container.ListBlobsFlatOptions{MaxResults: to.Ptr(d.pageSize)}
	if prefix != "" {
		o.Prefix = &prefix
	}
	if token != "" {
		o.Marker = &token
	}
	resp, err := d.client.NewListBlobsFlatPager(o).NextPage(ctx)
	if err != nil {
		return nil, "", convert(err)
	}
	var objs []blob.ObjectInfo
	if resp.Segment != nil {
		for _, it := range resp.Segment.BlobItems {
			if it == nil || it.Name == nil {
				continue
			}
			info := blob.ObjectInfo{Key: *it.Name}
			if it.Properties != nil {
				info.Size = deref(it.Properties.ContentLength)
				info.ModTime = deref(it.Properties.LastModified)
			}
			objs = append(objs, info)
		}
	}
	return objs, deref(resp.NextMarker), nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	_, err := d.client.NewBlobClient(key).Delete(ctx, &azblob.DeleteOptions{
		DeleteSnapshots: to.Ptr(azblob.DeleteSnapshotsOptionTypeInclude),
	})
	return convert(err)
}

func (d *driver) Close() error { return nil }

// responseError is a one-line form of azcore.ResponseError (whose own
// message dumps the whole response).
type responseError struct {
	status  int
	code    string
	message string
	err     *azcore.ResponseError
}

func (e *responseError) Error() string {
	s := fmt.Sprintf("azure: %d %s", e.status, http.StatusText(e.status))
	if e.code != "" {
		s += " " + e.code
	}
	if e.message != "" {
		s += ": " + e.message
	}
	return s
}

func (e *responseError) Unwrap() error { return e.err }

// convert replaces an azcore.ResponseError by a responseError carrying
// the status, the error code and the first line of the service's message.
func convert(err error) error {
	var re *azcore.ResponseError
	if err == nil || !errors.As(err, &re) {
		return err
	}
	out := &responseError{status: re.StatusCode, code: re.ErrorCode, err: re}
	if re.RawResponse != nil {
		if body, perr := runtime.Payload(re.RawResponse); perr == nil && len(body) > 0 {
			var x struct {
				Message string `xml:"Message"`
			}
			if xml.Unmarshal(body, &x) == nil {
				out.message, _, _ = strings.Cut(strings.TrimSpace(x.Message), "\n")
			}
		}
	}
	return out
}

// ErrorKind classifies Azure errors by error code, then HTTP status, then
// credential and transport failures.
func (d *driver) ErrorKind(err error) blob.Kind {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		switch bloberror.Code(re.ErrorCode) {
		case bloberror.BlobNotFound, bloberror.ContainerNotFound, bloberror.ResourceNotFound,
			bloberror.ContainerBeingDeleted:
			return blob.KindNotFound
		case bloberror.AuthenticationFailed, bloberror.AuthorizationFailure,
			bloberror.AuthorizationPermissionMismatch, bloberror.AuthorizationProtocolMismatch,
			bloberror.AuthorizationResourceTypeMismatch, bloberror.AuthorizationServiceMismatch,
			bloberror.AuthorizationSourceIPMismatch, bloberror.InsufficientAccountPermissions,
			bloberror.AccountIsDisabled, bloberror.NoAuthenticationInformation,
			bloberror.InvalidAuthenticationInfo:
			return blob.KindPermissionDenied
		case bloberror.ServerBusy, bloberror.InternalError, bloberror.OperationTimedOut:
			return blob.KindTransient
		}
		switch s := re.StatusCode; {
		case s == 404:
			return blob.KindNotFound
		case s == 401 || s == 403:
			return blob.KindPermissionDenied
		case s == 408 || s == 429 || s >= 500:
			return blob.KindTransient
		}
		return blob.KindOther
	}
	var ce *credentialError
	var afe *azidentity.AuthenticationFailedError
	var are *azidentity.AuthenticationRequiredError
	if errors.As(err, &ce) || errors.As(err, &afe) || errors.As(err, &are) {
		return blob.KindPermissionDenied
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return blob.KindTransient
	}
	return blob.KindOther
}
