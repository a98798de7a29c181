package desktop

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/adrg/xdg"
)

// Settings are the desktop app's per-user settings, kept in
// $XDG_CONFIG_HOME/assetlab/desktop.json with mode 0600 (the token is a secret).
type Settings struct {
	// ServerURL is the AssetLab server to use; empty runs one in the app.
	ServerURL string `json:"server_url"`
	// Token is the upload token for ServerURL.
	Token string `json:"token"`
	// Port is the built-in server's port, chosen on first run and kept so
	// that its LAN address stays the same from one launch to the next.
	Port int `json:"port,omitempty"`
}

// SettingsFile is where the settings are kept.
func SettingsFile() (string, error) {
	return xdg.ConfigFile(filepath.Join("assetlab", "desktop.json"))
}

// LoadSettings reads the settings; a missing file gives empty settings.
func LoadSettings(path string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(b, &s)
}

// Save writes the settings atomically, readable by the user alone.
func (s Settings) Save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".desktop-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path) // CreateTemp made it 0600
}

// Validate checks the server URL, if any.
func (s Settings) Validate() error {
	if s.ServerURL == "" {
		return nil
	}
	u, err := url.Parse(s.ServerURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errors.New("the server address must look like http://host:3000")
	}
	if strings.TrimSpace(s.Token) == "" {
		return errors.New("a server needs its upload token")
	}
	return nil
}
