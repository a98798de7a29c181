package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// S3Options configures an S3 store. Credentials come from the standard AWS chain
// (environment, shared files, instance roles).
type S3Options struct {
	Bucket string
	Region string
	// Endpoint is a custom endpoint for S3-compatible servers ("" for AWS).
	Endpoint string
	// PublicEndpoint, if set, is the endpoint presigned URLs are made for: the
	// address browsers and FFmpeg reach, when it differs from Endpoint.
	PublicEndpoint string
	// PathStyle addresses buckets as endpoint/bucket/key (S3-compatible servers).
	PathStyle bool
	// Concurrency is the number of parts uploaded at once, memory allowing
	// (ASSETLAB_UPLOAD_CONCURRENCY). A streaming upload holds at most
	// Concurrency+2 parts of PartSize.
	Concurrency int
	// Budget is the memory uploads share for their parts; stores given the
	// same budget share it (ASSETLAB_UPLOAD_MEMORY).
	Budget *Budget
	// AccessKey, SecretKey and SessionToken, if set, replace the standard
	// credential chain.
	AccessKey, SecretKey, SessionToken string
	// UploadLease is how long this store's multipart uploads stay safe from
	// other processes' janitors without a heartbeat (ASSETLAB_UPLOAD_LEASE; see
	// s3_janitor.go).
	UploadLease time.Duration
}

// S3 stores objects in one bucket through aws-sdk-go-v2.
type S3 struct {
	bucket  string
	client  *s3.Client
	presign *s3.PresignClient
	conc    int
	budget  *Budget
	log     *slog.Logger
	// partOptions apply to each UploadPart request.
	partOptions []func(*s3.Options)

	mu      sync.Mutex
	orphans map[string]string // multipart upload ID -> key, whose abort failed

	own *s3Owner // marks this store's multipart uploads as a live process's
}

var _ Store = (*S3)(nil)

// NewS3 makes an S3 store. The options come from the configuration, which
// has settled every default: it refuses a concurrency, budget or lease left
// unset.
func NewS3(ctx context.Context, o S3Options, log *slog.Logger) (*S3, error) {
	switch {
	case o.Bucket == "":
		return nil, errors.New("s3 store: no bucket")
	case o.Concurrency <= 0:
		return nil, fmt.Errorf("s3 store: upload concurrency %d, want 1 or more", o.Concurrency)
	case o.Budget == nil:
		return nil, errors.New("s3 store: no upload memory budget")
	case o.UploadLease <= 0:
		return nil, fmt.Errorf("s3 store: upload lease %s, want more than 0", o.UploadLease)
	}
	if log == nil {
		log = slog.Default()
	}
	loadOpts := []func(*config.LoadOptions) error{config.WithRegion(o.Region)}
	if o.AccessKey != "" {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(o.AccessKey, o.SecretKey, o.SessionToken)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("s3 store: load aws config: %w", err)
	}
	// A server that accepts a request and then never answers must not hang an
	// upload (and the abort that cleans up after it) for ever.
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		tr.ResponseHeaderTimeout = 2 * time.Minute
	})
	client := func(endpoint string) *s3.Client {
		return s3.NewFromConfig(cfg, func(so *s3.Options) {
			so.HTTPClient = httpClient
			if endpoint != "" {
				so.BaseEndpoint = aws.String(endpoint)
			}
			so.UsePathStyle = o.PathStyle
			// Many S3-compatible servers reject the CRC checksums the SDK adds by default.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		})
	}
	pub := o.PublicEndpoint
	if pub == "" {
		pub = o.Endpoint
	}
	var partOptions []func(*s3.Options)
	if o.Endpoint == "" || strings.HasPrefix(o.Endpoint, "https://") {
		// Over TLS the payload is protected in transit, so parts are sent as
		// UNSIGNED-PAYLOAD: the SHA-256 the signature would need costs about a
		// CPU-second per GiB here, and as much again on the server checking it.
		// Over plain HTTP the signed hash is the only integrity check; it stays.
		partOptions = append(partOptions, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	return &S3{
		bucket:      o.Bucket,
		client:      client(o.Endpoint),
		presign:     s3.NewPresignClient(client(pub)),
		conc:        o.Concurrency,
		budget:      o.Budget,
		log:         log,
		orphans:     map[string]string{},
		partOptions: partOptions,
		own:         newS3Owner(o.UploadLease),
	}, nil
}

// Client is the underlying SDK client (for tests and tools).
func (s *S3) Client() *s3.Client { return s.client }

// Bucket is the bucket's name.
func (s *S3) Bucket() string { return s.bucket }

// readAhead is the number of full parts a multipart upload reads ahead of
// those being sent, memory allowing.
const readAhead = 1

// Put takes its part buffers from the store's budget: it waits for its first,
// and takes more only while they are free (see Budget). A source that stalls
// while holding a buffer keeps it until the caller's context or deadline cuts
// the read.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	bufs, err := s.budget.reserve(ctx, s.conc+readAhead+1)
	if err != nil {
		return Info{}, fmt.Errorf("put %s: wait for memory: %w", key, err)
	}
	defer bufs.release()
	first, _ := bufs.get(ctx) // the one just reserved
	n, err := io.ReadFull(r, *first)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		// Smaller than one part: a single PUT.
		defer bufs.put(first)
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &s.bucket,
			Key:           &key,
			Body:          bytes.NewReader((*first)[:n]),
			ContentLength: aws.Int64(int64(n)),
			ContentType:   nonEmpty(contentType),
		})
		if err != nil {
			return Info{}, mapS3Err("put", key, err)
		}
		return s.Stat(ctx, key)
	case err != nil:
		bufs.put(first)
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	return s.putMultipart(ctx, key, r, bufs, first, contentType)
}

func (s *S3) putMultipart(ctx context.Context, key string, r io.Reader, bufs *partBuffers, first *[]byte, contentType string) (Info, error) {
	uploadID, err := s.createUpload(ctx, key, contentType)
	if err != nil {
		bufs.put(first)
		return Info{}, mapS3Err("put", key, err)
	}

	// The reader fills buffers while s.conc uploaders send them, so reading the
	// source never waits for a slow part unless readAhead full parts are
	// already waiting too. At most s.conc+readAhead+1 buffers are held, and as
	// few as one when the budget is short: then parts go one at a time.
	type chunk struct {
		num int32
		buf *[]byte
		n   int
	}
	gctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan chunk, readAhead)
	var (
		mu    sync.Mutex
		parts []types.CompletedPart
		wg    sync.WaitGroup
	)
	for range s.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				if gctx.Err() == nil {
					out, err := s.client.UploadPart(gctx, &s3.UploadPartInput{
						Bucket:        &s.bucket,
						Key:           &key,
						UploadId:      uploadID,
						PartNumber:    aws.Int32(c.num),
						Body:          bytes.NewReader((*c.buf)[:c.n]),
						ContentLength: aws.Int64(int64(c.n)),
					}, s.partOptions...)
					if err != nil {
						cancel(mapS3Err(fmt.Sprintf("upload part %d of", c.num), key, err))
					} else {
						mu.Lock()
						parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(c.num)})
						mu.Unlock()
					}
				}
				bufs.put(c.buf)
			}
		}()
	}

	var readErr error
	next := chunk{num: 1, buf: first, n: PartSize}
	for {
		select {
		case work <- next:
		case <-gctx.Done():
			bufs.put(next.buf)
		}
		if gctx.Err() != nil {
			break
		}
		if next.num == 10000 {
			readErr = errors.New("object too large for 10,000 parts")
			break
		}
		buf, err := bufs.get(gctx)
		if err != nil {
			break // gctx ended; its cause says why
		}
		n, err := io.ReadFull(ctxReader{gctx, r}, *buf)
		if err == io.EOF {
			bufs.put(buf)
			break
		}
		if err != nil && err != io.ErrUnexpectedEOF {
			bufs.put(buf)
			readErr = err
			break
		}
		next = chunk{num: next.num + 1, buf: buf, n: n}
	}
	close(work)
	wg.Wait()

	err = context.Cause(gctx)
	if readErr != nil && (err == nil || !errors.Is(readErr, context.Canceled)) {
		// The reader's error says why (too large, client gone) better than a
		// part cancelled because of it.
		err = readErr
	}
	if err != nil {
		s.abort(key, uploadID)
		return Info{}, fmt.Errorf("put %s: %w", key, err)
	}
	sort.Slice(parts, func(i, j int) bool { return *parts[i].PartNumber < *parts[j].PartNumber })
	_, err = s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket:          &s.bucket,
		Key:             &key,
		UploadId:        uploadID,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		s.abort(key, uploadID)
		return Info{}, mapS3Err("complete", key, err)
	}
	s.ended(*uploadID)
	return s.Stat(ctx, key)
}

// abort aborts a multipart upload, even when the request that started it has been
// cancelled. When storage cannot be reached the upload is remembered and the abort
// retried by RunJanitor, so that no part outlives a failed upload.
func (s *S3) abort(key string, uploadID *string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.abortNow(ctx, key, *uploadID); err != nil {
		s.log.Warn("abort multipart upload failed; will retry", slog.String("key", key), slog.Any("err", err))
		s.mu.Lock()
		s.orphans[*uploadID] = key
		s.mu.Unlock()
		s.own.active.Add(-1) // retryAborts drops the record once it is aborted
		return
	}
	s.aborted(key, *uploadID)
}

func (s *S3) abortNow(ctx context.Context, key, uploadID string) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: &s.bucket, Key: &key, UploadId: &uploadID,
	})
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchUpload" {
		return nil
	}
	return err
}

func (s *S3) Create(ctx context.Context, key string, body []byte, contentType string) error {
	for try := 0; ; try++ {
		_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
			Bucket:        &s.bucket,
			Key:           &key,
			Body:          bytes.NewReader(body),
			ContentLength: aws.Int64(int64(len(body))),
			ContentType:   nonEmpty(contentType),
			IfNoneMatch:   aws.String("*"),
		})
		var apiErr smithy.APIError
		if errors.As(err, &apiErr) {
			switch apiErr.ErrorCode() {
			case "PreconditionFailed":
				return ErrExists
			case "ConditionalRequestConflict":
				// Another conditional write of this key is in flight: ask again.
				if try < 5 {
					time.Sleep(time.Duration(try+1) * 50 * time.Millisecond)
					continue
				}
			}
		}
		if err != nil {
			return mapS3Err("create", key, err)
		}
		return nil
	}
}

func (s *S3) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return nil, Info{}, mapS3Err("get", key, err)
	}
	return out.Body, s3Info(key, out.ContentLength, out.LastModified, out.ContentType, out.ETag), nil
}

func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		return Info{}, mapS3Err("stat", key, err)
	}
	return s3Info(key, out.ContentLength, out.LastModified, out.ContentType, out.ETag), nil
}

// s3Info describes key from the headers GetObject and HeadObject both answer.
func s3Info(key string, size *int64, modTime *time.Time, contentType, etag *string) Info {
	return Info{
		Key:         key,
		Size:        aws.ToInt64(size),
		ModTime:     aws.ToTime(modTime),
		ContentType: aws.ToString(contentType),
		ETag:        aws.ToString(etag),
	}
}

func (s *S3) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &key})
	if err != nil {
		if errors.Is(mapS3Err("", key, err), ErrNotFound) {
			return nil
		}
		return mapS3Err("delete", key, err)
	}
	return nil
}

func (s *S3) List(ctx context.Context, prefix string) ([]Info, error) {
	var out []Info
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: &s.bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapS3Err("list", prefix, err)
		}
		for _, o := range page.Contents {
			if hidden(prefix, aws.ToString(o.Key)) {
				continue
			}
			out = append(out, Info{
				Key:     aws.ToString(o.Key),
				Size:    aws.ToInt64(o.Size),
				ModTime: aws.ToTime(o.LastModified),
				ETag:    aws.ToString(o.ETag),
			})
		}
	}
	return out, nil
}

func (s *S3) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := s.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &s.bucket, Key: &key},
		s3.WithPresignExpires(ttl))
	if err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	return req.URL, nil
}

func (s *S3) Ping(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &s.bucket})
	if err != nil {
		return mapS3Err("ping bucket", s.bucket, err)
	}
	return nil
}

// mapS3Err turns SDK errors into the package's sentinels: a missing key into
// ErrNotFound, a refusal for lack of space into ErrFull, anything without an
// answer from the server (or another 5xx) into ErrUnavailable.
func mapS3Err(op, key string, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchKey", "NotFound", "NoSuchUpload":
			return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
		case "InsufficientStorage", "QuotaExceeded", "XMinioStorageFull", "XMinioAdminBucketQuotaExceeded":
			// A full disk (versitygw, MinIO) or a quota (versitygw, Ceph RGW, MinIO).
			return fmt.Errorf("%s %s: %w: %w", op, key, ErrFull, err)
		}
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		// A status of 0 means no answer at all: the server is unreachable.
		if re.HTTPStatusCode() == http.StatusNotFound && apiErr == nil {
			return fmt.Errorf("%s %s: %w", op, key, ErrNotFound)
		}
		if code := re.HTTPStatusCode(); code != 0 && code < 500 {
			return fmt.Errorf("%s %s: %w", op, key, err)
		}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s %s: %w", op, key, err)
	}
	return fmt.Errorf("%s %s: %w: %v", op, key, ErrUnavailable, err)
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
