package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Browsers play HLS through hls.js, which fetches playlists and segments
// with XHR: a presigned URL on another origin (the bucket's) is then a CORS
// request, refused unless the bucket has a rule for it. A plain <video src>
// needs none, so buckets used to work without one.

// corsMaxAge is how long browsers may cache the bucket's answer to a
// preflight, in seconds.
const corsMaxAge = 3600

// corsExposed are the answer headers a player reads: the size and range of a
// segment, and its version.
var corsExposed = []string{"Content-Length", "Content-Range", "Accept-Ranges", "ETag"}

// CORSRule is the rule EnsureCORS gives a bucket that has none: GET and HEAD
// from any origin, with any request header (Range among them). Any origin,
// whatever CORS_ORIGINS says: a presigned URL carries no credentials, its
// signature is what grants access, and a list of origins would refuse the
// server's own web UI (same origin as the API, so never listed) and players
// that reach the bucket through the API's redirect (their Origin is then
// "null").
func CORSRule() types.CORSRule {
	return types.CORSRule{
		AllowedMethods: []string{"GET", "HEAD"},
		AllowedOrigins: []string{"*"},
		AllowedHeaders: []string{"*"},
		ExposeHeaders:  slices.Clone(corsExposed),
		MaxAgeSeconds:  aws.Int32(corsMaxAge),
	}
}

// EnsureCORS gives the bucket a CORS configuration allowing GET and HEAD
// from any origin (CORSRule), only if it has none: a configuration the
// operator set is theirs, and is left alone, with a warning when it allows
// no GET. It is safe to run at every start. Its error is a configuration it
// could neither read nor write (no permission, storage unreachable); the
// caller logs it and carries on, since everything but cross-origin playback
// works without one.
func (s *S3) EnsureCORS(ctx context.Context) error {
	out, err := s.client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: &s.bucket})
	if err == nil {
		if !allowsGet(out.CORSRules) {
			s.log.Warn("the bucket has a CORS configuration that allows no GET: browsers cannot play its HLS streams; add a rule allowing GET and HEAD from any origin with any header",
				slog.String("bucket", s.bucket))
		}
		return nil
	}
	if !noCORS(err) {
		return fmt.Errorf("read the CORS configuration of bucket %s: %w", s.bucket, mapS3Err("get cors", s.bucket, err))
	}
	_, err = s.client.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket:            &s.bucket,
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{CORSRule()}},
	})
	if err != nil {
		return fmt.Errorf("add a CORS rule to bucket %s: %w", s.bucket, mapS3Err("put cors", s.bucket, err))
	}
	s.log.Info("added a CORS rule to the bucket, so that browsers can play its streams", slog.String("bucket", s.bucket))
	return nil
}

// noCORS reports whether err says the bucket has no CORS configuration.
func noCORS(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchCORSConfiguration"
}

func allowsGet(rules []types.CORSRule) bool {
	for _, r := range rules {
		for _, m := range r.AllowedMethods {
			if strings.EqualFold(m, "GET") {
				return true
			}
		}
	}
	return false
}
