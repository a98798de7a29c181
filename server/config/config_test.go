package config

import (
	"strings"
	"testing"
	"time"
)

func fromMap(m map[string]string) (Config, error) {
	return FromEnv(func(k string) string { return m[k] })
}

func TestDefaults(t *testing.T) {
	c, err := fromMap(map[string]string{"ASSETLAB_DATA_DIR": "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Port != 3000 || c.Workers != 1 || c.MaxUploadBytes != 1<<30 || c.URLTTL != time.Hour ||
		c.UsesS3() || c.CORSOrigins[0] != "*" || c.UploadConcurrency != 4 ||
		c.UploadMemory != 64<<20 || c.MaxUploads != 32 ||
		c.JanitorInterval != time.Minute || c.UploadLease != 2*time.Minute {
		t.Errorf("defaults: got %+v", c)
	}
	// The worker's programs are defaulted here, not again in the transcode
	// package.
	if c.FFmpeg != "ffmpeg" || c.FFprobe != "ffprobe" || c.X264Preset != "veryfast" {
		t.Errorf("FFmpeg defaults: got %q %q %q, want ffmpeg ffprobe veryfast", c.FFmpeg, c.FFprobe, c.X264Preset)
	}
}

func TestS3Settings(t *testing.T) {
	c, err := fromMap(map[string]string{
		"S3_RAW_BUCKET": "raw", "AWS_DEFAULT_REGION": "eu-west-1", "AWS_ENDPOINT_URL": "http://minio:9000",
		"CORS_ORIGINS": "https://a.example, https://b.example/",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !c.UsesS3() || c.VideoBucket != "raw" || c.Region != "eu-west-1" || c.Endpoint != "http://minio:9000" || !c.PathStyle {
		t.Errorf("got %+v", c)
	}
	if strings.Join(c.CORSOrigins, " ") != "https://a.example https://b.example" {
		t.Errorf("CORS origins: got %q", c.CORSOrigins)
	}
	c, _ = fromMap(map[string]string{"S3_VIDEO_BUCKET": "v", "AWS_ENDPOINT_URL_S3": "http://s3:1", "AWS_ENDPOINT_URL": "http://other:2"})
	if c.RawBucket != "v" || c.Endpoint != "http://s3:1" {
		t.Errorf("S3_VIDEO_BUCKET alone, endpoint precedence: got %+v", c)
	}
}

func TestInvalid(t *testing.T) {
	for name, v := range map[string]map[string]string{
		"PORT":                      {"PORT": "http"},
		"ASSETLAB_WORKERS":          {"ASSETLAB_WORKERS": "-1"},
		"ASSETLAB_URL_TTL":          {"ASSETLAB_URL_TTL": "forever"},
		"ASSETLAB_MAX_UPLOAD_BYTES": {"ASSETLAB_MAX_UPLOAD_BYTES": "0"},
		"ASSETLAB_PUBLIC_URL":       {"ASSETLAB_PUBLIC_URL": "localhost:3000"},
		"ASSETLAB_DELETE_ORIGINAL":  {"ASSETLAB_DELETE_ORIGINAL": "maybe"},
		"ASSETLAB_LOG_FORMAT":       {"ASSETLAB_LOG_FORMAT": "xml"},
		"ASSETLAB_UPLOAD_MEMORY":    {"ASSETLAB_UPLOAD_MEMORY": "4MiB"},
		"ASSETLAB_MAX_UPLOADS":      {"ASSETLAB_MAX_UPLOADS": "-1"},
		"ASSETLAB_JANITOR_INTERVAL": {"ASSETLAB_JANITOR_INTERVAL": "0s"},
		"ASSETLAB_UPLOAD_LEASE":     {"ASSETLAB_UPLOAD_LEASE": "500ms"},
		"ASSETLAB_X264_PRESET":      {"ASSETLAB_X264_PRESET": "turbo"},
		"ASSETLAB_POLL_MAX":         {"ASSETLAB_POLL_INTERVAL": "5s", "ASSETLAB_POLL_MAX": "1s"},
		"AWS_ENDPOINT_URL_S3":       {"AWS_ENDPOINT_URL_S3": "minio:9000"},
	} {
		_, err := fromMap(v)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: got %v, want an error naming %s", v, err, name)
		}
	}
}

func TestUploadMemory(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{"67108864", 64 << 20, false},
		{"64MiB", 64 << 20, false},
		{"96 MiB", 96 << 20, false},
		{"1GiB", 1 << 30, false},
		{"10240KiB", 10 << 20, false},
		{"5MiB", 5 << 20, false},
		{"64MB", 0, true},
		{"lots", 0, true},
		{"-64MiB", 0, true},
		{"99999999999GiB", 0, true},
	} {
		got, err := fromMap(map[string]string{"ASSETLAB_UPLOAD_MEMORY": c.in, "ASSETLAB_DATA_DIR": "/tmp/x"})
		if c.bad {
			if err == nil || !strings.Contains(err.Error(), "ASSETLAB_UPLOAD_MEMORY") {
				t.Errorf("%q: got %v, want an error naming ASSETLAB_UPLOAD_MEMORY", c.in, err)
			}
			continue
		}
		if err != nil || got.UploadMemory != c.want {
			t.Errorf("%q: got %d (%v), want %d", c.in, got.UploadMemory, err, c.want)
		}
	}
}

// Sizes are read and written in binary units, and said the same way in
// every message.
func TestSizes(t *testing.T) {
	c, err := fromMap(map[string]string{"ASSETLAB_MAX_UPLOAD_BYTES": "512MiB"})
	if err != nil || c.MaxUploadBytes != 512<<20 {
		t.Errorf("ASSETLAB_MAX_UPLOAD_BYTES=512MiB: got %d (%v), want %d", c.MaxUploadBytes, err, 512<<20)
	}
	for n, want := range map[int64]string{
		0: "0 B", 10: "10 B", 1000: "1000 B", 1500: "1.5 KiB", 1 << 10: "1 KiB", 1536: "1.5 KiB", 5 << 20: "5 MiB",
		8<<20 + 1: "8.0 MiB", 1 << 30: "1 GiB", 3 << 29: "1.5 GiB",
	} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d): got %q, want %q", n, got, want)
		}
	}
	_, err = fromMap(map[string]string{"ASSETLAB_UPLOAD_MEMORY": "4MiB"})
	if err == nil || !strings.Contains(err.Error(), "ASSETLAB_UPLOAD_MEMORY: must be 5 MiB or more") {
		t.Errorf("too little upload memory: got %v, want it to say 5 MiB", err)
	}
}
