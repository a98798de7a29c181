package config

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/adrg/xdg"
)

// Vars lists every environment variable, in the order the README shows them.
// A new setting is one entry here (and a field of Config); the README's table
// is regenerated from it with `go test ./server/config -run README -update`.
var Vars = []Var{
	setting("PORT", "3000", "HTTP port",
		func(c *Config) *int { return &c.Port }, integer,
		func(p int) error {
			if p < 0 || p > 65535 {
				return fmt.Errorf("%d is not a port", p)
			}
			return nil
		}),
	setting("HOST", "", "address to listen on, e.g. 127.0.0.1",
		func(c *Config) *string { return &c.Host }, text).
		shown("(all interfaces)"),
	setting("ADMIN_TOKEN", "", "Bearer token for uploads and the library; if unset, one is made, kept in `$XDG_CONFIG_HOME/assetlab/admin-token` (mode 0600) and printed at start",
		func(c *Config) *string { return &c.AdminToken }, text).
		shown("(made on first run)"),
	setting("CORS_ORIGINS", "*", "comma-separated origins allowed to call the API from a browser; `*` allows any (the API uses bearer tokens, not cookies)",
		func(c *Config) *[]string { return &c.CORSOrigins }, origins),
	setting("ASSETLAB_PUBLIC_URL", "", "the server's address as clients reach it, for the local backend's signed URLs",
		func(c *Config) *string { return &c.PublicURL }, baseURL, httpURL).
		shown("(from the request)"),
	setting("ASSETLAB_DATA_DIR", "", "where the local backend keeps everything",
		func(c *Config) *string { return &c.DataDir }, text).
		shown("`$XDG_DATA_HOME/assetlab`").
		derived(func(c *Config) { c.DataDir = filepath.Join(xdg.DataHome, "assetlab") }),
	setting("S3_RAW_BUCKET", "", "bucket for originals; setting it (or `S3_VIDEO_BUCKET`) selects the S3 backend",
		func(c *Config) *string { return &c.RawBucket }, text).
		derived(func(c *Config) { c.RawBucket = c.VideoBucket }),
	setting("S3_VIDEO_BUCKET", "", "bucket for renditions, status and jobs; may be the same bucket",
		func(c *Config) *string { return &c.VideoBucket }, text).
		shown("(`S3_RAW_BUCKET`)").
		derived(func(c *Config) { c.VideoBucket = c.RawBucket }),
	setting("AWS_REGION", "us-east-1", "S3 region",
		func(c *Config) *string { return &c.Region }, text).
		aka("AWS_DEFAULT_REGION"),
	setting("AWS_ENDPOINT_URL_S3", "", "endpoint of an S3-compatible server (MinIO, Ceph, R2, versitygw, …)",
		func(c *Config) *string { return &c.Endpoint }, text, httpURL).
		aka("AWS_ENDPOINT_URL").
		shown("(AWS)"),
	setting("S3_PUBLIC_ENDPOINT", "", "endpoint that browsers and FFmpeg reach, used for presigned URLs (they sign the host)",
		func(c *Config) *string { return &c.PublicEndpoint }, text, httpURL).
		shown("(the endpoint)"),
	setting("S3_PATH_STYLE", "", "path-style bucket addressing",
		func(c *Config) *bool { return &c.PathStyle }, boolean).
		shown("true with a custom endpoint").
		derived(func(c *Config) { c.PathStyle = c.Endpoint != "" }),
	setting("AWS_ACCESS_KEY_ID", "", "S3 access key; unset, the rest of the standard AWS chain is used (`AWS_PROFILE`, shared files, instance roles)",
		func(c *Config) *string { return &c.AccessKey }, text),
	setting("AWS_SECRET_ACCESS_KEY", "", "S3 secret key, with `AWS_ACCESS_KEY_ID`",
		func(c *Config) *string { return &c.SecretKey }, text),
	setting("AWS_SESSION_TOKEN", "", "S3 session token, with temporary credentials",
		func(c *Config) *string { return &c.SessionToken }, text),
	setting("ASSETLAB_UPLOAD_CONCURRENCY", "4", "5 MiB parts an upload sends to S3 at once, memory allowing; an upload holds at most n+2 parts in memory",
		func(c *Config) *int { return &c.UploadConcurrency }, integer, between(1, 64)),
	setting("ASSETLAB_UPLOAD_MEMORY", "64MiB", "S3: the memory all uploads in flight share for their 5 MiB part buffers (in bytes, or with `KiB`, `MiB` or `GiB`; at least `5MiB`); uploads beyond it wait their turn (below). The local backend needs none",
		func(c *Config) *int64 { return &c.UploadMemory }, ParseSize, sizeAtLeast(partSize)),
	setting("ASSETLAB_MAX_UPLOADS", "32", "uploads in flight at once; more are refused with `503` and `Retry-After` before their body is read; 0 leaves only the memory budget",
		func(c *Config) *int { return &c.MaxUploads }, integer, atLeast(0)),
	setting("ASSETLAB_JANITOR_INTERVAL", "1m", "how often each process looks for partial uploads left by processes that died, and removes them",
		func(c *Config) *time.Duration { return &c.JanitorInterval }, duration, within(100*time.Millisecond, time.Hour)),
	setting("ASSETLAB_UPLOAD_EXPIRY", "24h", "how long a resumable upload may take from its creation: after it the upload answers `410` and the janitor removes what it left (its parts, files and locks)",
		func(c *Config) *time.Duration { return &c.UploadExpiry }, duration, within(time.Second, 0)),
	setting("ASSETLAB_ABORT_RETRY_INTERVAL", "30s", "S3: how often each process retries removing the parts of its failed uploads that S3 was not there to remove",
		func(c *Config) *time.Duration { return &c.AbortRetryInterval }, duration, within(100*time.Millisecond, time.Hour)),
	setting("ASSETLAB_UPLOAD_LEASE", "2m", "S3: how long a process's unfinished multipart uploads stay its own without a heartbeat (it renews every quarter of it)",
		func(c *Config) *time.Duration { return &c.UploadLease }, duration, within(time.Second, 0)),
	setting("ASSETLAB_WORKERS", "1", "transcode workers inside the server process; 0 turns them off",
		func(c *Config) *int { return &c.Workers }, integer, atLeast(0)),
	setting("ASSETLAB_URL_TTL", "1h", "lifetime of the presigned URLs given to viewers",
		func(c *Config) *time.Duration { return &c.URLTTL }, duration, within(5*time.Second, 7*24*time.Hour)),
	setting("ASSETLAB_MAX_UPLOAD_BYTES", "1GiB", "largest accepted upload, in bytes or with `KiB`, `MiB` or `GiB`; `GET /api/config` tells clients",
		func(c *Config) *int64 { return &c.MaxUploadBytes }, ParseSize, sizeAtLeast(1)),
	setting("ASSETLAB_DELETE_ORIGINAL", "false", "delete the original once the renditions are stored",
		func(c *Config) *bool { return &c.DeleteOriginal }, boolean),
	setting("ASSETLAB_READ_TIMEOUT", "10s", "how long a client may take to send a request's headers, or the body of any request but an upload; a request answered before its body is read (a refusal, say) gets its answer at once, and its connection is closed within this time",
		func(c *Config) *time.Duration { return &c.ReadTimeout }, duration, within(time.Second, 0)),
	setting("ASSETLAB_UPLOAD_STALL_TIMEOUT", "2m", "how long an upload may send nothing, anywhere in its body (form fields included), before it is cut off; a slow upload that keeps sending is never cut",
		func(c *Config) *time.Duration { return &c.UploadStallTimeout }, duration, within(time.Second, 0)),
	setting("ASSETLAB_JOB_LEASE", "30s", "how long a worker's claim on a job lasts without a heartbeat (it renews every third of it)",
		func(c *Config) *time.Duration { return &c.JobLease }, duration, within(time.Second, 0)),
	setting("ASSETLAB_MAX_ATTEMPTS", "3", "tries of one job before its status becomes `error`",
		func(c *Config) *int { return &c.MaxAttempts }, integer, atLeast(1)),
	setting("ASSETLAB_RETRY_BACKOFF", "10s", "wait before retrying a failed job; doubles with each attempt",
		func(c *Config) *time.Duration { return &c.RetryBackoff }, duration, within(0, 0)),
	setting("ASSETLAB_POLL_INTERVAL", "2s", "how often an idle standalone worker looks for jobs at first (±25% jitter)",
		func(c *Config) *time.Duration { return &c.PollInterval }, duration, within(10*time.Millisecond, 0)),
	setting("ASSETLAB_POLL_MAX", "30s", "what that interval grows to while the worker stays idle",
		func(c *Config) *time.Duration { return &c.PollMax }, duration).
		checked(func(c *Config) error {
			if c.PollMax < c.PollInterval {
				return fmt.Errorf("%s is less than ASSETLAB_POLL_INTERVAL (%s)", short(c.PollMax), short(c.PollInterval))
			}
			return nil
		}),
	setting("ASSETLAB_FFMPEG", "ffmpeg", "the FFmpeg program the workers run",
		func(c *Config) *string { return &c.FFmpeg }, text),
	setting("ASSETLAB_FFPROBE", "ffprobe", "the FFprobe program the workers run",
		func(c *Config) *string { return &c.FFprobe }, text),
	setting("ASSETLAB_X264_PRESET", "veryfast", "x264 preset of the renditions, `ultrafast` to `veryslow` (or `placebo`): a faster one makes larger files",
		func(c *Config) *string { return &c.X264Preset }, text,
		oneOf("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow", "placebo")),
	setting("ASSETLAB_HLS_SEGMENT_GRACE", "1m", "how long a finished video's separate HLS segments outlive its transcode, for viewers who loaded a playlist listing them (after it, playlists name byte ranges of the one MP4 per rendition)",
		func(c *Config) *time.Duration { return &c.SegmentGrace }, duration, within(0, time.Hour)),
	setting("ASSETLAB_TMP_DIR", "", "where renditions are written before they are uploaded, and resumable uploads on S3 buffer their parts",
		func(c *Config) *string { return &c.TmpDir }, text).
		shown("(the system's)"),
	setting("ASSETLAB_LOG_FORMAT", "text", "`text` or `json`",
		func(c *Config) *string { return &c.LogFormat }, text, oneOf("text", "json")),
	setting("ASSETLAB_LOG_LEVEL", "info", "`debug`, `info`, `warn` or `error`",
		func(c *Config) *string { return &c.LogLevel }, text, oneOf("debug", "info", "warn", "error")),
}

// setting declares a variable held in one field of Config: parse reads a
// value into it, and each check says what is wrong with the field's value.
func setting[T any](name, def, doc string, field func(*Config) *T, parse func(string) (T, error), checks ...func(T) error) Var {
	return Var{
		Name: name, Default: def, Doc: doc,
		set: func(c *Config, v string) error {
			x, err := parse(v)
			if err != nil {
				return err
			}
			*field(c) = x
			return nil
		},
		check: func(c *Config) error {
			for _, check := range checks {
				if err := check(*field(c)); err != nil {
					return err
				}
			}
			return nil
		},
	}
}

func (v Var) aka(names ...string) Var { v.Aliases = append(v.Aliases, names...); return v }

func (v Var) shown(s string) Var { v.Shown = s; return v }

func (v Var) derived(f func(*Config)) Var { v.derive = f; return v }

// checked adds a check that looks at other settings too.
func (v Var) checked(f func(*Config) error) Var {
	own := v.check
	v.check = func(c *Config) error {
		if err := own(c); err != nil {
			return err
		}
		return f(c)
	}
	return v
}

// Parsers.

func text(v string) (string, error) { return v, nil }

func integer(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a whole number", v)
	}
	return n, nil
}

func boolean(v string) (bool, error) {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

func duration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as 30s", v)
	}
	return d, nil
}

func baseURL(v string) (string, error) { return strings.TrimRight(v, "/"), nil }

// origins reads a comma-separated list of origins; one naming none allows any.
func origins(v string) ([]string, error) {
	var list []string
	for _, o := range strings.Split(v, ",") {
		if o = strings.TrimSpace(o); o != "" {
			list = append(list, strings.TrimRight(o, "/"))
		}
	}
	if len(list) == 0 {
		list = []string{"*"}
	}
	return list, nil
}

// partSize is storage.PartSize: the smallest memory an upload can work with.
const partSize = 5 << 20

var sizeUnits = []struct {
	suffix string
	mult   int64
}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}}

// ParseSize reads a size: a whole number of bytes, or one followed by KiB,
// MiB or GiB (binary units, the only ones AssetLab uses).
func ParseSize(v string) (int64, error) {
	num, mult := v, int64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size such as 64MiB", v)
	}
	return n * mult, nil
}

// FormatSize says n bytes in binary units, as every message and document
// does: "1 GiB", "5 MiB", "1.5 KiB", "900 B".
func FormatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %ciB", int64(v), "KMGTPE"[exp])
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTPE"[exp])
}

// Checks.

func between(lo, hi int) func(int) error {
	return func(n int) error {
		if n < lo || n > hi {
			return fmt.Errorf("must be from %d to %d", lo, hi)
		}
		return nil
	}
}

func atLeast(lo int) func(int) error {
	return func(n int) error {
		if n < lo {
			return fmt.Errorf("must be %d or more", lo)
		}
		return nil
	}
}

// within checks a duration is at least lo and, unless hi is 0, at most hi.
func within(lo, hi time.Duration) func(time.Duration) error {
	return func(d time.Duration) error {
		switch {
		case hi > 0 && (d < lo || d > hi):
			return fmt.Errorf("must be from %s to %s", short(lo), short(hi))
		case d < lo:
			return fmt.Errorf("must be %s or more", short(lo))
		}
		return nil
	}
}

func sizeAtLeast(lo int64) func(int64) error {
	return func(n int64) error {
		if n < lo {
			return fmt.Errorf("must be %s or more", FormatSize(lo))
		}
		return nil
	}
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if !slices.Contains(values, v) {
			return fmt.Errorf("%q is not one of %s", v, strings.Join(values, ", "))
		}
		return nil
	}
}

func httpURL(v string) error {
	if v == "" {
		return nil
	}
	if p, err := url.Parse(v); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL", v)
	}
	return nil
}

// short writes a duration the way the variables take it: 1h, 2m, 100ms.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
