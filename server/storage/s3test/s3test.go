// Package s3test starts a real S3-compatible server, versitygw, for tests: the
// S3 code paths are tested against it, never against a mock.
package s3test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	AccessKey = "assetlab-test"
	SecretKey = "assetlab-test-secret"
	Region    = "us-east-1"
)

// Server is a running versitygw over a temporary directory.
type Server struct {
	Endpoint string
	Dir      string
	bin      string
	port     int
	cmd      *exec.Cmd
	t        testing.TB
}

// Binary finds versitygw: $VERSITYGW, the repository's .tools/bin (where
// `make test` installs it), $GOBIN or $GOPATH/bin, then $PATH.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		return p, nil
	}
	var candidates []string
	if wd, err := os.Getwd(); err == nil {
		for dir := wd; ; dir = filepath.Dir(dir) {
			candidates = append(candidates, filepath.Join(dir, ".tools", "bin", "versitygw"))
			if filepath.Dir(dir) == dir {
				break
			}
		}
	}
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		candidates = append(candidates, filepath.Join(gobin, "versitygw"))
	}
	if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		for _, p := range filepath.SplitList(strings.TrimSpace(string(out))) {
			candidates = append(candidates, filepath.Join(p, "bin", "versitygw"))
		}
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && !fi.IsDir() {
			return c, nil
		}
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("versitygw not found: `make test` installs it (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
}

// Start starts versitygw on a free loopback port and creates the buckets. It
// is stopped when the test ends.
func Start(t testing.TB, buckets ...string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &Server{
		Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port),
		Dir:      t.TempDir(),
		bin:      bin,
		port:     port,
		t:        t,
	}
	s.start()
	t.Cleanup(s.Stop)
	for _, b := range buckets {
		s.CreateBucket(t, b)
	}
	return s
}

// CreateBucket makes a bucket and opens a store on it.
func (s *Server) CreateBucket(t testing.TB, bucket string) *storage.S3 {
	t.Helper()
	if _, err := s.Client(t).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("create bucket %s: %v", bucket, err)
	}
	return s.Store(t, bucket)
}

func (s *Server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--port", fmt.Sprintf("127.0.0.1:%d", s.port), "posix", s.Dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+AccessKey, "ROOT_SECRET_KEY="+SecretKey)
	logf, err := os.Create(filepath.Join(s.t.TempDir(), "versitygw.log"))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start versitygw: %v", err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(logf.Name())
	s.t.Fatalf("versitygw did not start listening:\n%s", b)
}

// Pid is the server's process ID.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Stop kills the server (it can be started again with Restart).
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	s.cmd.Process.Kill()
	s.cmd.Wait()
	s.cmd = nil
}

// Restart starts a stopped server again, on the same port and directory.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Client is an SDK client for the server, for checks a test makes directly.
func (s *Server) Client(t testing.TB) *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: AccessKey, SecretAccessKey: SecretKey}, nil
		}),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

// Options are store options for bucket on this server, with the default
// settings (each call a memory budget of its own).
func (s *Server) Options(bucket string) storage.S3Options {
	def := config.Default()
	return storage.S3Options{
		Bucket: bucket, Region: Region, Endpoint: s.Endpoint, PathStyle: true,
		AccessKey: AccessKey, SecretKey: SecretKey,
		Concurrency: def.UploadConcurrency,
		Budget:      storage.NewBudget(def.UploadMemory),
		UploadLease: def.UploadLease,
	}
}

// Store opens an S3 store on bucket.
func (s *Server) Store(t testing.TB, bucket string) *storage.S3 {
	t.Helper()
	st, err := storage.NewS3(context.Background(), s.Options(bucket), nil)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// OpenUploads lists the multipart uploads still open in bucket.
func (s *Server) OpenUploads(t testing.TB, bucket string) []string {
	t.Helper()
	out, err := s.Client(t).ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

// Env returns the environment a process needs to use bucket on this server.
func (s *Server) Env(rawBucket, videoBucket string) []string {
	return []string{
		"S3_RAW_BUCKET=" + rawBucket, "S3_VIDEO_BUCKET=" + videoBucket,
		"AWS_ENDPOINT_URL_S3=" + s.Endpoint, "AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + SecretKey,
	}
}
