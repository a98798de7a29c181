// Package config reads the server's and the worker's settings from the
// environment, once, into a typed struct. Each variable is declared once, in
// Vars: its name, default, parser, check and meaning. FromEnv and Validate
// work from that table, and the README's table is generated from it.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
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
	// UploadConcurrency is the number of 5 MiB parts an upload to S3 sends at
	// once, memory allowing.
	UploadConcurrency int
	// UploadMemory is the memory, in bytes, that all uploads to S3 in flight
	// share for their part buffers (the local backend needs none).
	UploadMemory int64
	// MaxUploads caps the uploads in flight; more are refused with a 503 (0: no
	// cap beyond UploadMemory).
	MaxUploads int
	// JanitorInterval is how often a process looks for the partial uploads of
	// processes that died, and UploadLease how long an S3 process's unfinished
	// uploads stay its own without a heartbeat.
	JanitorInterval, UploadLease time.Duration
	// UploadExpiry is how long a resumable upload lives from its creation.
	UploadExpiry time.Duration
	// AbortRetryInterval is how often aborts of multipart uploads that failed
	// (S3 was unreachable) are tried again.
	AbortRetryInterval time.Duration

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
	// trades encode speed for size.
	FFmpeg, FFprobe string
	X264Preset      string
	// SegmentGrace is how long a finished video's separate HLS segments
	// are kept for viewers of its playlist as it was while transcoding.
	SegmentGrace time.Duration
	// TmpDir holds renditions while they are made.
	TmpDir string

	LogFormat string // "text" or "json"
	LogLevel  string // "debug", "info", "warn", "error"
}

// Var is one environment variable: everything about it, in one place.
type Var struct {
	// Name is the variable; Aliases are read, in order, when it is unset.
	Name    string
	Aliases []string
	// Default is the value used when the variable is unset. Empty: none, or
	// one worked out from other settings at start, which Shown describes.
	Default string
	// Shown is how the README shows a default that is not a literal value.
	Shown string
	// Doc says what the variable does, in Markdown, for the README.
	Doc string

	// set parses a value (never empty) into the Config.
	set func(c *Config, v string) error
	// derive fills in the setting when it is unset and has no Default.
	derive func(c *Config)
	// check says what is wrong with the setting's value, if anything.
	check func(c *Config) error
}

// lookup returns the first of the variable's names that is set, and its value.
func (v Var) lookup(getenv func(string) string) (name, value string) {
	for _, n := range append([]string{v.Name}, v.Aliases...) {
		if s := strings.TrimSpace(getenv(n)); s != "" {
			return n, s
		}
	}
	return v.Name, ""
}

// FromEnv reads the configuration with getenv (os.Getenv in production),
// and validates it. Its error names every variable that is wrong.
func FromEnv(getenv func(string) string) (Config, error) {
	var c Config
	var errs []error
	for _, v := range Vars {
		name, s := v.lookup(getenv)
		if s == "" {
			s = v.Default
		}
		if s == "" {
			continue
		}
		if err := v.set(&c, s); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	// Defaults worked out from other settings, once those are all read.
	for _, v := range Vars {
		if _, s := v.lookup(getenv); s == "" && v.Default == "" && v.derive != nil {
			v.derive(&c)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return c, err
	}
	return c, c.Validate()
}

// Default is the configuration with no variable set.
func Default() Config {
	c, err := FromEnv(func(string) string { return "" })
	if err != nil {
		panic("config: the defaults do not validate: " + err.Error())
	}
	return c
}

// Validate checks the settings for values that cannot work.
func (c Config) Validate() error {
	var errs []error
	for _, v := range Vars {
		if v.check == nil {
			continue
		}
		if err := v.check(&c); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// UsesS3 reports whether a bucket is configured.
func (c Config) UsesS3() bool { return c.RawBucket != "" }

// Addr is the listen address.
func (c Config) Addr() string { return fmt.Sprintf("%s:%d", c.Host, c.Port) }

// Table is the README's table of the variables, in Markdown.
func Table() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n| --- | --- | --- |\n")
	for _, v := range Vars {
		names := "`" + v.Name + "`"
		for _, a := range v.Aliases {
			names += " / `" + a + "`"
		}
		def := " " + v.Shown + " "
		if v.Shown == "" && v.Default != "" {
			def = " `" + v.Default + "` "
		}
		fmt.Fprintf(&b, "| %s |%s| %s |\n", names, strings.Replace(def, "  ", " ", 1), v.Doc)
	}
	return b.String()
}
