package storage_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/storage/storagetest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// A bucket with no CORS configuration gets one rule: a presigned GET with a
// Range from another origin (the desktop app's webview) is then answered
// with the CORS headers a player needs, and its preflight allowed. Running
// it again changes nothing.
func TestS3EnsureCORS(t *testing.T) {
	gw := s3test.Start(t)
	st := gw.CreateBucket(t, "videos")
	ctx := context.Background()
	content := make([]byte, 1000)
	rand.Read(content)
	if _, err := st.Put(ctx, "videos/x/a1/360p.mp4", bytes.NewReader(content), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	url, err := st.PresignGet(ctx, "videos/x/a1/360p.mp4", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const origin = "wails://wails"
	if resp, _ := storagetest.RangedGet(t, url, origin, "bytes=10-19"); storagetest.AllowsOrigin(resp, origin) {
		t.Fatalf("before: a GET from %s was answered with Access-Control-Allow-Origin %q; want the bucket to start without CORS",
			origin, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	for i := range 2 {
		if err := st.EnsureCORS(ctx); err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		out, err := gw.Client(t).GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("videos")})
		if err != nil {
			t.Fatalf("run %d: read the rule back: %v", i+1, err)
		}
		if len(out.CORSRules) != 1 || !slices.Equal(out.CORSRules[0].AllowedMethods, []string{"GET", "HEAD"}) {
			t.Fatalf("run %d: got rules %+v, want one allowing GET and HEAD", i+1, out.CORSRules)
		}
	}

	resp, body := storagetest.RangedGet(t, url, origin, "bytes=10-19")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[10:20]) {
		t.Errorf("ranged GET: got %d with %d bytes, want 206 with bytes 10-19", resp.StatusCode, len(body))
	}
	if !storagetest.AllowsOrigin(resp, origin) {
		t.Errorf("ranged GET from %s: Access-Control-Allow-Origin %q, want it allowed", origin, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"content-length", "content-range", "accept-ranges", "etag"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("Access-Control-Expose-Headers %q: want %s in it", exposed, h)
		}
	}
	// A page on another origin than the API's reaches the bucket through the
	// API's redirect: browsers then send "Origin: null".
	if resp, _ := storagetest.RangedGet(t, url, "null", "bytes=10-19"); !storagetest.AllowsOrigin(resp, "null") {
		t.Errorf("ranged GET from origin null (after a cross-origin redirect): Access-Control-Allow-Origin %q, want it allowed",
			resp.Header.Get("Access-Control-Allow-Origin"))
	}
	pre := storagetest.PreflightRange(t, url, origin)
	if pre.StatusCode/100 != 2 || !storagetest.AllowsOrigin(pre, origin) ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "GET") ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "range") {
		t.Errorf("preflight for a GET with Range: got %d, Allow-Origin %q, Allow-Methods %q, Allow-Headers %q; want it allowed",
			pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"), pre.Header.Get("Access-Control-Allow-Methods"),
			pre.Header.Get("Access-Control-Allow-Headers"))
	}
}

// The rule allows any origin: the server's own web UI, a listed client, and
// a player sent on by the API's redirect (Origin "null").
func TestS3EnsureCORSAnyOrigin(t *testing.T) {
	gw := s3test.Start(t)
	st := gw.CreateBucket(t, "videos")
	ctx := context.Background()
	if err := st.Create(ctx, "k", make([]byte, 100), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureCORS(ctx); err != nil {
		t.Fatal(err)
	}
	url, _ := st.PresignGet(ctx, "k", time.Hour)
	for _, origin := range []string{"https://app.example", "http://127.0.0.1:3000", "null"} {
		if resp, _ := storagetest.RangedGet(t, url, origin, "bytes=10-19"); !storagetest.AllowsOrigin(resp, origin) {
			t.Errorf("GET from %s: got Access-Control-Allow-Origin %q, want it allowed", origin, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

// A bucket that has a CORS configuration keeps it, whatever it says; one
// that allows no GET is reported.
func TestS3EnsureCORSKeepsTheOperators(t *testing.T) {
	gw := s3test.Start(t)
	gw.CreateBucket(t, "videos")
	ctx := context.Background()
	theirs := types.CORSRule{AllowedMethods: []string{"PUT"}, AllowedOrigins: []string{"https://ops.example"}}
	if _, err := gw.Client(t).PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket:            aws.String("videos"),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: []types.CORSRule{theirs}},
	}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	st, err := storage.NewS3(ctx, gw.Options("videos"), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnsureCORS(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := gw.Client(t).GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("videos")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CORSRules) != 1 || !slices.Equal(out.CORSRules[0].AllowedMethods, []string{"PUT"}) ||
		!slices.Equal(out.CORSRules[0].AllowedOrigins, theirs.AllowedOrigins) {
		t.Errorf("got rules %+v, want the operator's one rule left as it was", out.CORSRules)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "allows no GET") {
		t.Errorf("log %q: want a warning that the configuration allows no GET", logs.String())
	}
}

// A bucket whose CORS configuration may not be changed (no permission) is an
// error that says so, for the caller to log; it is not retried for ever.
func TestS3EnsureCORSRefused(t *testing.T) {
	var puts int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := r.URL.Query()["cors"]; !ok {
			http.Error(w, "unexpected", http.StatusNotImplemented)
			return
		}
		w.Header().Set("Content-Type", "application/xml")
		switch r.Method {
		case "GET":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchCORSConfiguration</Code><Message>The CORS configuration does not exist</Message></Error>`)
		case "PUT":
			puts++
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`)
		}
	}))
	defer srv.Close()
	gw := &s3test.Server{Endpoint: srv.URL}
	st, err := storage.NewS3(context.Background(), gw.Options("videos"), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = st.EnsureCORS(context.Background())
	if err == nil || !strings.Contains(err.Error(), "add a CORS rule to bucket videos") || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("got %v, want an error saying the rule could not be added: AccessDenied", err)
	}
	if puts != 1 {
		t.Errorf("got %d PUTs of the rule, want 1", puts)
	}
}
