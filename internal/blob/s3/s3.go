// Package s3 is the blob driver for Amazon S3 and S3-compatible stores,
// on aws-sdk-go-v2.
//
// Writers stream in parts: an object that fits in one part is sent with a
// single PutObject; a larger one becomes a multipart upload
// (CreateMultipartUpload, UploadPart in the background while the next part
// fills, CompleteMultipartUpload). The part size starts at
// Options.PartSize and doubles every 500 parts up to 5 GiB, so that no
// object up to S3's 5 TiB limit needs more than 10,000 parts. Aborted and
// failed writers call AbortMultipartUpload; a process that dies mid-write
// leaves an incomplete upload, which a bucket lifecycle rule
// (AbortIncompleteMultipartUpload) should expire.
//
// Every request, part uploads included, goes through the SDK's standard
// retryer (exponential backoff with jitter) with Options.MaxAttempts
// attempts and no client-side retry quota. Parts and single objects carry
// CRC32 checksums that S3 verifies. A small object written at once
// (Bucket.WriteAll, up to 1 MiB) is first sent as one plain PUT signed
// with the SDK's SigV4 signer, its SHA-256 signed so S3 verifies the
// body, which costs about a third less CPU than PutObject; if that PUT
// fails, PutObject makes the remaining attempts (fastput.go). An answer cut short (the store did the
// work, the client cannot read the reply) is retried too, which the SDK
// does not do by itself: every request the driver sends may be repeated
// (PutObject and UploadPart overwrite with the same bytes; a repeated
// CreateMultipartUpload leaves the first upload for the bucket's lifecycle
// rule; a repeated CompleteMultipartUpload finds the upload gone, and
// Complete then accepts the object if it has the upload's size and
// number of parts).
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/snapex/snapex/internal/blob"
	"github.com/snapex/snapex/internal/blob/internal/httpx"
	"github.com/snapex/snapex/internal/blob/internal/parts"
)

// Part-size limits of S3.
const (
	// DefaultPartSize is the first part size when Options.PartSize is 0.
	DefaultPartSize = 16 << 20
	// MinPartSize is the smallest part S3 accepts (except the last).
	MinPartSize = 5 << 20
	// MaxPartSize is the largest part S3 accepts.
	MaxPartSize = 5 << 30
	// MaxParts is the most parts one multipart upload may have.
	MaxParts = 10000
	// DefaultMaxAttempts is the number of tries per request when
	// Options.MaxAttempts is 0.
	DefaultMaxAttempts = 5
)

// Server-side encryption modes for Options.SSE.
const (
	SSES3  = "AES256"
	SSEKMS = "aws:kms"
)

// Options configures an S3 bucket.
type Options struct {
	// Bucket is the bucket name. Required.
	Bucket string
	// Region is the bucket's region. Empty uses the AWS default chain
	// (AWS_REGION, shared config), or us-east-1 when Endpoint is set.
	Region string
	// Endpoint is the base URL of an S3-compatible service
	// (e.g. http://127.0.0.1:7070). Empty means AWS.
	Endpoint string
	// UsePathStyle addresses buckets as ENDPOINT/BUCKET instead of
	// BUCKET.ENDPOINT; most S3-compatible services need it.
	UsePathStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken are static
	// credentials. Empty means the AWS default credential chain
	// (environment, shared files, web identity, ECS/EC2 roles).
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// SSE is the server-side encryption to request: "" (the bucket's
	// default), "AES256" (SSE-S3) or "aws:kms" (SSE-KMS).
	SSE string
	// KMSKeyID is the KMS key for SSE "aws:kms"; empty uses the
	// account's default key.
	KMSKeyID string
	// PartSize is the first part size, at least 5 MiB; 0 means 16 MiB.
	PartSize int64
	// Concurrency is how many parts of one object may upload while the
	// next fills; 0 means 1. Each writer holds up to Concurrency+1 parts
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

// listPageSize is the number of keys asked for per ListObjectsV2 call.
const listPageSize = 1000

// Open returns a Bucket for opts. It makes no request: a missing bucket or
// wrong credentials show on the first operation.
func Open(ctx context.Context, opts Options) (blob.Bucket, error) {
	d, err := newDriver(ctx, opts)
	if err != nil {
		return nil, err
	}
	return blob.New(d), nil
}

func invalid(opts Options, format string, args ...any) error {
	return &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: "s3://" + opts.Bucket, Err: fmt.Errorf("s3: "+format, args...)}
}

func (o *Options) validate() error {
	if o.Bucket == "" {
		return invalid(*o, "Bucket is required")
	}
	if o.Endpoint != "" {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return invalid(*o, "Endpoint %q is not an http(s) URL", o.Endpoint)
		}
	}
	if (o.AccessKeyID == "") != (o.SecretAccessKey == "") {
		return invalid(*o, "AccessKeyID and SecretAccessKey must be given together")
	}
	if o.SessionToken != "" && o.AccessKeyID == "" {
		return invalid(*o, "SessionToken needs AccessKeyID and SecretAccessKey")
	}
	switch o.SSE {
	case "", SSES3:
		if o.KMSKeyID != "" {
			return invalid(*o, "KMSKeyID needs SSE %q", SSEKMS)
		}
	case SSEKMS:
	default:
		return invalid(*o, "SSE %q is not one of \"\", %q, %q", o.SSE, SSES3, SSEKMS)
	}
	if o.PartSize == 0 {
		o.PartSize = DefaultPartSize
	}
	if o.PartSize < MinPartSize || o.PartSize > MaxPartSize {
		return invalid(*o, "PartSize %d is outside [%d, %d]", o.PartSize, MinPartSize, MaxPartSize)
	}
	if o.Concurrency < 0 || o.MaxAttempts < 0 {
		return invalid(*o, "Concurrency and MaxAttempts must not be negative")
	}
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	return nil
}

type driver struct {
	client *s3.Client
	bucket string
	opts   Options
	parts  parts.Config
	// pageSize is the ListObjectsV2 page size (tests lower it).
	pageSize int32
	// fast sends small objects without the SDK's middleware stack
	// (fastput.go); nil when the configuration rules it out.
	fast *fastPutter
}

func newDriver(ctx context.Context, opts Options) (*driver, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	loads := []func(*config.LoadOptions) error{
		// The SDK's own buildable client, so AWS_CA_BUNDLE and friends keep
		// working, with a bound on waiting for the store's answer.
		config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
			tr.ResponseHeaderTimeout = httpx.Timeout(opts.RequestTimeout)
			tr.MaxIdleConnsPerHost = httpx.MaxIdleConnsPerHost
		})),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) {
				so.MaxAttempts = opts.MaxAttempts
				so.MaxBackoff = 20 * time.Second
				// Many writers share a client; a client-side retry quota
				// would turn a burst of throttling into hard failures.
				so.RateLimiter = ratelimit.None
				so.Retryables = append(slices.Clone(so.Retryables), retry.IsErrorRetryableFunc(retryTruncated))
			})
		}),
	}
	if opts.Region != "" {
		loads = append(loads, config.WithRegion(opts.Region))
	}
	if opts.AccessKeyID != "" {
		loads = append(loads, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(opts.AccessKeyID, opts.SecretAccessKey, opts.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, &blob.Error{Kind: blob.KindInvalid, Op: "open", Bucket: "s3://" + opts.Bucket, Err: fmt.Errorf("s3: load AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		if opts.Endpoint == "" {
			return nil, invalid(opts, "Region is required (none in the environment or shared config)")
		}
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if opts.Endpoint != "" {
			o.BaseEndpoint = aws.String(opts.Endpoint)
		}
		o.UsePathStyle = opts.UsePathStyle
	})
	return &driver{
		fast:   newFastPutter(ctx, client, opts),
		client: client,
		bucket: opts.Bucket,
		opts:   opts,
		parts: parts.Config{
			PartSize:    opts.PartSize,
			MaxPartSize: MaxPartSize,
			MaxParts:    MaxParts,
			GrowEvery:   500,
			MaxInFlight: opts.Concurrency,
		},
		pageSize: listPageSize,
	}, nil
}

func (d *driver) Name() string { return "s3://" + d.bucket }

func (d *driver) sse() (types.ServerSideEncryption, *string) {
	if d.opts.SSE == "" {
		return "", nil
	}
	var kms *string
	if d.opts.KMSKeyID != "" {
		kms = aws.String(d.opts.KMSKeyID)
	}
	return types.ServerSideEncryption(d.opts.SSE), kms
}

func contentType(opts blob.WriterOptions) *string {
	if opts.ContentType == "" {
		return nil
	}
	return aws.String(opts.ContentType)
}

func (d *driver) NewWriter(ctx context.Context, key string, opts blob.WriterOptions) (blob.Writer, error) {
	u := &upload{d: d, key: key, opts: opts}
	return parts.NewWriter(ctx, u, d.parts), nil
}

func (d *driver) Put(ctx context.Context, key string, data []byte, opts blob.WriterOptions) error {
	if int64(len(data)) > d.parts.PartSize {
		// Larger than a part: a multipart upload.
		w, err := d.NewWriter(ctx, key, opts)
		if err != nil {
			return err
		}
		return blob.WriteThrough(w, data)
	}
	outcome, err := d.fast.put(ctx, key, data, opts.ContentType)
	if outcome == fastDone || err != nil {
		return err
	}
	u := &upload{d: d, key: key, opts: opts}
	if outcome == fastFailed && d.opts.MaxAttempts > 1 {
		// The fast PUT was the first of the object's MaxAttempts.
		u.attempts = d.opts.MaxAttempts - 1
	}
	body := parts.NewBody(data)
	defer body.Fence()
	return u.PutSingle(ctx, body)
}

// upload is one object's multipart upload.
type upload struct {
	d        *driver
	key      string
	opts     blob.WriterOptions
	uploadID *string
	// attempts, when not 0, replaces MaxAttempts for PutSingle.
	attempts int

	mu    sync.Mutex
	parts []types.CompletedPart
	size  int64 // bytes in the uploaded parts
}

func (u *upload) PutSingle(ctx context.Context, body *parts.Body) error {
	sse, kms := u.d.sse()
	var fewer []func(*s3.Options) // per-call options copy the client's: only when needed
	if u.attempts > 0 {
		fewer = append(fewer, func(o *s3.Options) { o.RetryMaxAttempts = u.attempts })
	}
	_, err := u.d.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               &u.d.bucket,
		Key:                  &u.key,
		Body:                 body,
		ContentLength:        aws.Int64(body.Size()),
		ContentType:          contentType(u.opts),
		ServerSideEncryption: sse,
		SSEKMSKeyId:          kms,
		ChecksumAlgorithm:    types.ChecksumAlgorithmCrc32,
	}, fewer...)
	return err
}

func (u *upload) Start(ctx context.Context) error {
	sse, kms := u.d.sse()
	out, err := u.d.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:               &u.d.bucket,
		Key:                  &u.key,
		ContentType:          contentType(u.opts),
		ServerSideEncryption: sse,
		SSEKMSKeyId:          kms,
		ChecksumAlgorithm:    types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	if out.UploadId == nil || *out.UploadId == "" {
		return errors.New("CreateMultipartUpload returned no upload id")
	}
	u.uploadID = out.UploadId
	return nil
}

func (u *upload) UploadPart(ctx context.Context, n int, body *parts.Body) error {
	out, err := u.d.client.UploadPart(ctx, &s3.UploadPartInput{
		Bucket:            &u.d.bucket,
		Key:               &u.key,
		UploadId:          u.uploadID,
		PartNumber:        aws.Int32(int32(n)),
		Body:              body,
		ContentLength:     aws.Int64(body.Size()),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	for len(u.parts) < n {
		u.parts = append(u.parts, types.CompletedPart{})
	}
	if u.parts[n-1].PartNumber == nil {
		u.size += body.Size()
	}
	u.parts[n-1] = types.CompletedPart{
		PartNumber:    aws.Int32(int32(n)),
		ETag:          out.ETag,
		ChecksumCRC32: out.ChecksumCRC32,
	}
	return nil
}

func (u *upload) Complete(ctx context.Context, n int) error {
	u.mu.Lock()
	done := slices.Clone(u.parts)
	u.mu.Unlock()
	if len(done) != n {
		return fmt.Errorf("have %d of %d parts", len(done), n)
	}
	for i, p := range done {
		if p.PartNumber == nil {
			return fmt.Errorf("part %d missing", i+1)
		}
	}
	_, err := u.d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &u.d.bucket,
		Key:             &u.key,
		UploadId:        u.uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: done},
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload" && u.completedEarlier(ctx, n) {
		return nil
	}
	return err
}

// completedEarlier tells whether the object under the upload's key is the
// upload, completed by an earlier attempt of CompleteMultipartUpload whose
// answer was lost: a multipart object ("-n" ETag) of the upload's size.
// Keys are written by one writer at a time, so no other upload of the
// same size and part count can have taken the key meanwhile.
func (u *upload) completedEarlier(ctx context.Context, n int) bool {
	out, err := u.d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &u.d.bucket, Key: &u.key})
	if err != nil {
		return false
	}
	u.mu.Lock()
	size := u.size
	u.mu.Unlock()
	etag := strings.Trim(aws.ToString(out.ETag), `"`)
	return aws.ToInt64(out.ContentLength) == size && strings.HasSuffix(etag, "-"+strconv.Itoa(n))
}

func (u *upload) Abort(ctx context.Context) error {
	_, err := u.d.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket:   &u.d.bucket,
		Key:      &u.key,
		UploadId: u.uploadID,
	})
	if err != nil && u.d.ErrorKind(err) == blob.KindNotFound {
		return nil // already gone
	}
	return err
}

func (d *driver) NewReader(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return nil, err
	}
	return out.Body, nil
}

func (d *driver) Stat(ctx context.Context, key string) (blob.ObjectInfo, error) {
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return blob.ObjectInfo{}, err
	}
	return blob.ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

func (d *driver) ListPage(ctx context.Context, prefix, token string) ([]blob.ObjectInfo, string, error) {
	in := &s3.ListObjectsV2Input{Bucket: &d.bucket, MaxKeys: aws.Int32(d.pageSize)}
	if prefix != "" {
		in.Prefix = &prefix
	}
	if token != "" {
		in.ContinuationToken = &token
	}
	out, err := d.client.ListObjectsV2(ctx, in)
	if err != nil {
		return nil, "", err
	}
	objs := make([]blob.ObjectInfo, 0, len(out.Contents))
	for _, o := range out.Contents {
		objs = append(objs, blob.ObjectInfo{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
	}
	next := ""
	if aws.ToBool(out.IsTruncated) {
		next = aws.ToString(out.NextContinuationToken)
		if next == "" {
			return nil, "", errors.New("ListObjectsV2 page is truncated but has no continuation token")
		}
	}
	return objs, next, nil
}

func (d *driver) Delete(ctx context.Context, key string) error {
	_, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key})
	return err
}

func (d *driver) Close() error { return nil }

// retryTruncated makes an answer cut short retryable: the SDK reports a
// body that ended before its Content-Length as io.ErrUnexpectedEOF and
// does not retry it after a success status.
func retryTruncated(err error) aws.Ternary {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// ErrorKind classifies S3 errors by error code first, then HTTP status,
// then transport failures.
func (d *driver) ErrorKind(err error) blob.Kind {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchBucket":
			return blob.KindNotFound
		case "NoSuchUpload":
			// The multipart upload is gone (a retried Complete whose first
			// answer was lost, or a lifecycle rule aborted it); the bucket
			// is fine and writing the object again will work.
			return blob.KindTransient
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
			"InvalidToken", "TokenRefreshRequired", "AllAccessDisabled", "AccountProblem",
			"InvalidSecurity", "InvalidObjectState", "KMS.AccessDeniedException",
			"KMS.DisabledException", "KMS.NotFoundException":
			return blob.KindPermissionDenied
		case "SlowDown", "RequestTimeout", "InternalError", "ServiceUnavailable",
			"Throttling", "ThrottlingException", "RequestLimitExceeded", "RequestTimeTooSkewed":
			return blob.KindTransient
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		switch s := re.HTTPStatusCode(); {
		case s == 404:
			return blob.KindNotFound
		case s == 401 || s == 403:
			return blob.KindPermissionDenied
		case s == 408 || s == 429 || s >= 500:
			return blob.KindTransient
		}
	}
	// Credentials that cannot be resolved fail before any request.
	if strings.Contains(err.Error(), "get identity: ") {
		return blob.KindPermissionDenied
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return blob.KindTransient
	}
	var maxErr *retry.MaxAttemptsError
	if errors.As(err, &maxErr) {
		return blob.KindTransient
	}
	return blob.KindOther
}
