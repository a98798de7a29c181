// Package config reads the server's and the worker's settings from the
// environment, once, into a typed struct. Every variable is listed in Vars (and
// in the README).
package config

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

// Config holds every setting of the server and the worker.
type Config struct {
	// Host and Port are where the HTTP server listens.
	Host string
	Port int
	// AdminToken guards uploads and the library. Empty: made on first run and
	// kept in the user's config folder.
	AdminToken string
	// CORSOrigins lists the origins allowed to call the API from a browser.
	CORSOrigins []string
	// PublicURL is the server's address as clients reach it; it prefixes the
	// local backend's signed URLs. Empty: taken from each request.
	PublicURL string

	// DataDir holds everything when no S3 bucket is configured.
	DataDir string
	// RawBucket holds the originals, VideoBucket the renditions, documents and
	// jobs. Both empty: the local backend. They may name the same bucket.
	RawBucket   string
	VideoBucket string
	Region      string
	Endpoint    string
	// PublicEndpoint is the S3 endpoint presigned URLs are made for, when the
	// address clients reach differs from Endpoint.
	PublicEndpoint string
	PathStyle      bool
	// AccessKey, SecretKey and SessionToken are static S3 credentials; empty
	// leaves them to the rest of the standard AWS chain (profiles, roles).
	AccessKey, SecretKey, SessionToken string
	// UploadConcurrency is the number of 5 MiB parts uploaded at once.
	UploadConcurrency int
	// UploadMemory is the memory, in bytes, that all uploads in flight share
	// for their part buffers.
	UploadMemory int64
	// MaxUploads caps the uploads in flight; more are refused with a 503 (0: no
	// cap beyond UploadMemory).
	MaxUploads int
	// JanitorInterval is how often a process looks for the partial uploads of
	// processes that died, and UploadLease how long an S3 process's unfinished
	// uploads stay its own without a heartbeat.
	JanitorInterval, UploadLease time.Duration

	// Workers is the number of transcode workers run inside the server (0: none).
	Workers int
	// URLTTL is the lifetime of the presigned URLs given to viewers.
	URLTTL time.Duration
	// MaxUploadBytes caps the size of an uploaded file.
	MaxUploadBytes int64
	// DeleteOriginal removes the original once every rendition is stored.
	DeleteOriginal bool
	// ReadTimeout bounds the wait for a request's headers, and for the body of
	// any request but an upload (no other route reads one).
	ReadTimeout time.Duration
	// UploadStallTimeout is how long an upload's body may stall, from its first
	// byte to its last, before the server gives up on it.
	UploadStallTimeout time.Duration

	// JobLease is how long a worker's claim on a job lasts without a heartbeat;
	// after it another worker takes the job over.
	JobLease time.Duration
	// MaxAttempts caps the tries of one job.
	MaxAttempts int
	// RetryBackoff is the wait before a failed job's second attempt; it doubles
	// for each further one.
	RetryBackoff time.Duration
	// PollInterval is how often an idle standalone worker looks for jobs at
	// first; PollMax is what the interval grows to while it stays idle.
	PollInterval, PollMax time.Duration
	// FFmpeg and FFprobe are the programs the worker runs, and X264Preset
	// trades encode speed for size; empty, the transcode package's defaults.
	FFmpeg, FFprobe string
	X264Preset      string
	// TmpDir holds renditions while they are made.
	TmpDir string

	LogFormat string // "text" or "json"
	LogLevel  string // "debug", "info", "warn", "error"
}

// Var documents one environment variable.
type Var struct {
	Name, Default, Doc string
}

// Vars lists every environment variable read by FromEnv.
var Vars = []Var{
	{"PORT", "3000", "HTTP port"},
	{"HOST", "(all interfaces)", "address to listen on, e.g. 127.0.0.1"},
	{"ADMIN_TOKEN", "(made on first run)", "Bearer token for uploads and the library; if unset, one is made, kept in $XDG_CONFIG_HOME/assetlab/admin-token (mode 0600) and printed at start"},
	{"CORS_ORIGINS", "*", "comma-separated origins allowed to call the API from a browser; * allows any"},
	{"ASSETLAB_PUBLIC_URL", "(from the request)", "the server's address as clients reach it, for the local backend's signed URLs"},
	{"ASSETLAB_DATA_DIR", "$XDG_DATA_HOME/assetlab", "where the local backend keeps everything"},
	{"S3_RAW_BUCKET", "", "bucket for originals; setting it (or S3_VIDEO_BUCKET) selects the S3 backend"},
	{"S3_VIDEO_BUCKET", "(S3_RAW_BUCKET)", "bucket for renditions, status and jobs; may be the same bucket"},
	{"AWS_REGION / AWS_DEFAULT_REGION", "us-east-1", "S3 region"},
	{"AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL", "(AWS)", "endpoint of an S3-compatible server"},
	{"S3_PUBLIC_ENDPOINT", "(the endpoint)", "endpoint that browsers and FFmpeg reach, used for presigned URLs"},
	{"S3_PATH_STYLE", "true with a custom endpoint", "path-style bucket addressing"},
	{"AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN", "", "S3 credentials; unset, the rest of the standard AWS chain is used (AWS_PROFILE, shared files, instance roles)"},
	{"ASSETLAB_UPLOAD_CONCURRENCY", "4", "5 MiB parts uploaded at once per upload, memory allowing (at most n+2 parts held)"},
	{"ASSETLAB_UPLOAD_MEMORY", "64MiB", "memory all uploads share for their 5 MiB part buffers (bytes, or with KiB, MiB or GiB); uploads beyond it wait"},
	{"ASSETLAB_MAX_UPLOADS", "32", "uploads in flight at once; more get 503 with Retry-After; 0 leaves only the memory budget"},
	{"ASSETLAB_JANITOR_INTERVAL", "1m", "how often each process looks for partial uploads left by processes that died, and removes them"},
	{"ASSETLAB_UPLOAD_LEASE", "2m", "S3: how long a process's unfinished multipart uploads stay its own without a heartbeat (it renews every quarter of it)"},
	{"ASSETLAB_WORKERS", "1", "transcode workers inside the server process; 0 turns them off"},
	{"ASSETLAB_URL_TTL", "1h", "lifetime of the presigned URLs given to viewers"},
	{"ASSETLAB_MAX_UPLOAD_BYTES", "1073741824", "largest accepted upload (1 GiB)"},
	{"ASSETLAB_DELETE_ORIGINAL", "false", "delete the original once the renditions are stored"},
	{"ASSETLAB_READ_TIMEOUT", "10s", "how long a client may take to send a request's headers, or the body of any request but an upload"},
	{"ASSETLAB_UPLOAD_STALL_TIMEOUT", "2m", "how long an upload may send nothing, at any point of its body, before it is cut off"},
	{"ASSETLAB_JOB_LEASE", "30s", "how long a worker's claim on a job lasts without a heartbeat (heartbeats every third of it)"},
	{"ASSETLAB_MAX_ATTEMPTS", "3", "tries of one job before its status becomes error"},
	{"ASSETLAB_RETRY_BACKOFF", "10s", "wait before retrying a failed job; doubles with each attempt"},
	{"ASSETLAB_POLL_INTERVAL", "2s", "how often an idle standalone worker looks for jobs at first (with ±25% jitter)"},
	{"ASSETLAB_POLL_MAX", "30s", "what the poll interval grows to while a worker stays idle"},
	{"ASSETLAB_FFMPEG / ASSETLAB_FFPROBE", "ffmpeg / ffprobe", "the FFmpeg programs"},
	{"ASSETLAB_X264_PRESET", "veryfast", "x264 preset of the renditions"},
	{"ASSETLAB_TMP_DIR", "(the system's)", "where renditions are written before they are uploaded"},
	{"ASSETLAB_LOG_FORMAT", "text", "text or json"},
	{"ASSETLAB_LOG_LEVEL", "info", "debug, info, warn or error"},
}

// FromEnv reads the configuration with getenv (os.Getenv in production).
func FromEnv(getenv func(string) string) (Config, error) {
	env := func(names ...string) string {
		for _, n := range names {
			if v := strings.TrimSpace(getenv(n)); v != "" {
				return v
			}
		}
		return ""
	}
	c := Config{
		Host:        env("HOST"),
		AdminToken:  env("ADMIN_TOKEN"),
		PublicURL:   strings.TrimRight(env("ASSETLAB_PUBLIC_URL"), "/"),
		DataDir:     env("ASSETLAB_DATA_DIR"),
		RawBucket:   env("S3_RAW_BUCKET"),
		VideoBucket: env("S3_VIDEO_BUCKET"),
		Region:      env("AWS_REGION", "AWS_DEFAULT_REGION"),
		Endpoint:    env("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),

		PublicEndpoint: env("S3_PUBLIC_ENDPOINT"),
		AccessKey:      env("AWS_ACCESS_KEY_ID"),
		SecretKey:      env("AWS_SECRET_ACCESS_KEY"),
		SessionToken:   env("AWS_SESSION_TOKEN"),
		FFmpeg:         env("ASSETLAB_FFMPEG"),
		FFprobe:        env("ASSETLAB_FFPROBE"),
		X264Preset:     env("ASSETLAB_X264_PRESET"),
		TmpDir:         env("ASSETLAB_TMP_DIR"),
		LogFormat:      env("ASSETLAB_LOG_FORMAT"),
		LogLevel:       env("ASSETLAB_LOG_LEVEL"),
	}
	var errs []error
	num := func(name string, def int64) int64 {
		v := env(name)
		if v == "" {
			return def
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, v))
		}
		return n
	}
	boolean := func(name string, def bool) bool {
		v := env(name)
		if v == "" {
			return def
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, v))
		}
		return b
	}
	c.Port = int(num("PORT", 3000))
	c.Workers = int(num("ASSETLAB_WORKERS", 1))
	c.UploadConcurrency = int(num("ASSETLAB_UPLOAD_CONCURRENCY", 4))
	c.MaxUploadBytes = num("ASSETLAB_MAX_UPLOAD_BYTES", 1<<30)
	c.MaxUploads = int(num("ASSETLAB_MAX_UPLOADS", 32))
	c.UploadMemory = 64 << 20
	if v := env("ASSETLAB_UPLOAD_MEMORY"); v != "" {
		n, err := parseBytes(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("ASSETLAB_UPLOAD_MEMORY: %w", err))
		}
		c.UploadMemory = n
	}
	c.DeleteOriginal = boolean("ASSETLAB_DELETE_ORIGINAL", false)
	c.PathStyle = boolean("S3_PATH_STYLE", c.Endpoint != "")
	duration := func(name string, def time.Duration) time.Duration {
		v := env(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 30s", name, v))
		}
		return d
	}
	c.URLTTL = duration("ASSETLAB_URL_TTL", time.Hour)
	c.JobLease = duration("ASSETLAB_JOB_LEASE", 30*time.Second)
	c.RetryBackoff = duration("ASSETLAB_RETRY_BACKOFF", 10*time.Second)
	c.PollInterval = duration("ASSETLAB_POLL_INTERVAL", 2*time.Second)
	c.PollMax = duration("ASSETLAB_POLL_MAX", 30*time.Second)
	c.ReadTimeout = duration("ASSETLAB_READ_TIMEOUT", 10*time.Second)
	c.UploadStallTimeout = duration("ASSETLAB_UPLOAD_STALL_TIMEOUT", 2*time.Minute)
	c.JanitorInterval = duration("ASSETLAB_JANITOR_INTERVAL", time.Minute)
	c.UploadLease = duration("ASSETLAB_UPLOAD_LEASE", 2*time.Minute)
	c.MaxAttempts = int(num("ASSETLAB_MAX_ATTEMPTS", 3))
	for _, o := range strings.Split(env("CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.CORSOrigins = append(c.CORSOrigins, strings.TrimRight(o, "/"))
		}
	}
	if len(c.CORSOrigins) == 0 {
		c.CORSOrigins = []string{"*"}
	}
	if c.VideoBucket == "" {
		c.VideoBucket = c.RawBucket
	}
	if c.RawBucket == "" {
		c.RawBucket = c.VideoBucket
	}
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.DataDir == "" {
		c.DataDir = filepath.Join(xdg.DataHome, "assetlab")
	}
	if c.LogFormat == "" {
		c.LogFormat = "text"
	}

	if c.LogLevel == "" {
		c.LogLevel = "info"
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Validate checks the settings for values that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Port < 0 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("PORT: %d is not a port", c.Port))
	}
	if c.Workers < 0 {
		errs = append(errs, errors.New("ASSETLAB_WORKERS: must be 0 or more"))
	}
	if c.UploadConcurrency < 1 || c.UploadConcurrency > 64 {
		errs = append(errs, errors.New("ASSETLAB_UPLOAD_CONCURRENCY: must be from 1 to 64"))
	}
	if c.UploadMemory < partSize {
		errs = append(errs, errors.New("ASSETLAB_UPLOAD_MEMORY: must be 5MiB (one part) or more"))
	}
	if c.MaxUploads < 0 {
		errs = append(errs, errors.New("ASSETLAB_MAX_UPLOADS: must be 0 or more"))
	}
	if c.MaxUploadBytes < 1 {
		errs = append(errs, errors.New("ASSETLAB_MAX_UPLOAD_BYTES: must be positive"))
	}
	if c.ReadTimeout < time.Second {
		errs = append(errs, errors.New("ASSETLAB_READ_TIMEOUT: must be 1s or more"))
	}
	if c.UploadStallTimeout < time.Second {
		errs = append(errs, errors.New("ASSETLAB_UPLOAD_STALL_TIMEOUT: must be 1s or more"))
	}
	if c.URLTTL < 5*time.Second || c.URLTTL > 7*24*time.Hour {
		errs = append(errs, errors.New("ASSETLAB_URL_TTL: must be from 5s to 168h"))
	}
	if c.JobLease < time.Second {
		errs = append(errs, errors.New("ASSETLAB_JOB_LEASE: must be 1s or more"))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, errors.New("ASSETLAB_MAX_ATTEMPTS: must be 1 or more"))
	}
	if c.RetryBackoff < 0 {
		errs = append(errs, errors.New("ASSETLAB_RETRY_BACKOFF: must not be negative"))
	}
	if c.JanitorInterval < 100*time.Millisecond || c.JanitorInterval > time.Hour {
		errs = append(errs, errors.New("ASSETLAB_JANITOR_INTERVAL: must be from 100ms to 1h"))
	}
	if c.UploadLease < time.Second {
		errs = append(errs, errors.New("ASSETLAB_UPLOAD_LEASE: must be 1s or more"))
	}
	if c.PollInterval < 10*time.Millisecond || c.PollMax < c.PollInterval {
		errs = append(errs, errors.New("ASSETLAB_POLL_INTERVAL: must be 10ms or more, and ASSETLAB_POLL_MAX no less"))
	}
	for _, u := range []struct{ name, v string }{
		{"ASSETLAB_PUBLIC_URL", c.PublicURL}, {"AWS_ENDPOINT_URL_S3", c.Endpoint}, {"S3_PUBLIC_ENDPOINT", c.PublicEndpoint},
	} {
		if u.v == "" {
			continue
		}
		if p, err := url.Parse(u.v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			errs = append(errs, fmt.Errorf("%s: %q is not an http(s) URL", u.name, u.v))
		}
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("ASSETLAB_LOG_FORMAT: %q is not text or json", c.LogFormat))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("ASSETLAB_LOG_LEVEL: %q is not debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// partSize is storage.PartSize: the smallest memory an upload can work with.
const partSize = 5 << 20

// parseBytes reads a size: a whole number of bytes, or one followed by KiB,
// MiB or GiB.
func parseBytes(v string) (int64, error) {
	num, mult := v, int64(1)
	for suffix, m := range map[string]int64{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if n, ok := strings.CutSuffix(v, suffix); ok {
			num, mult = strings.TrimSpace(n), m
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 64MiB", v)
	}
	return n * mult, nil
}

// UsesS3 reports whether a bucket is configured.
func (c Config) UsesS3() bool { return c.RawBucket != "" }

// Addr is the listen address.
func (c Config) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }
