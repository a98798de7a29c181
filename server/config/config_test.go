package config

import (
	"os"
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
		c.UsesS3() || c.CORSOrigins[0] != "*" || c.UploadConcurrency != 4 {
		t.Errorf("defaults: got %+v", c)
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
	} {
		_, err := fromMap(v)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: got %v, want an error naming %s", v, err, name)
		}
	}
}

// Every variable is documented in the README.
func TestREADMEListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		for _, name := range strings.FieldsFunc(v.Name, func(r rune) bool { return r == ' ' || r == '/' || r == ',' || r == '…' }) {
			if !strings.Contains(string(readme), "`"+name+"`") {
				t.Errorf("%s is not in the README", name)
			}
		}
	}
}
