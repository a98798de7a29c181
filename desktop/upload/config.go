package upload

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Config is what a server says its clients should know (GET /api/config);
// the uploader needs its limit.
type Config struct {
	MaxUploadBytes int64 `json:"max_upload_bytes"`
	// Features are the optional parts of the API the server has.
	Features Features `json:"features"`
	// FromServer tells whether the server said so (false: the defaults of an
	// older server, which has no such endpoint).
	FromServer bool `json:"-"`
}

// Features are what GET /api/config says of the server's optional parts.
type Features struct {
	// ResumableUploads: the server takes tus uploads at /api/uploads/.
	ResumableUploads bool `json:"resumable_uploads"`
}

// DefaultConfig is what an older server, without GET /api/config, takes.
var DefaultConfig = Config{MaxUploadBytes: 1 << 30}

// GetConfig asks server for its limits. An older server answers 404: then
// DefaultConfig applies, and the server still refuses what it must. Only a
// server that cannot be reached is an error.
func GetConfig(ctx context.Context, client *http.Client, server string) (Config, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/config", nil)
	if err != nil {
		return Config{}, newError(codeBadAddress, facts{})
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return Config{}, newError(codeCancelled, facts{status: -1})
		}
		return Config{}, newError(codeUnreachable, facts{})
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return DefaultConfig, nil
	}
	cfg := Config{FromServer: true}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&cfg); err != nil || cfg.MaxUploadBytes <= 0 {
		return DefaultConfig, nil // not a config this uploader can read: the server will say
	}
	return cfg, nil
}
