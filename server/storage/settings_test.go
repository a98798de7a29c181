package storage

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// Stores take their settings from the configuration and refuse the ones left
// unset, instead of making up defaults of their own.
func TestUnsetSettingsAreRefused(t *testing.T) {
	good := S3Options{Bucket: "b", Region: "r", Endpoint: "http://127.0.0.1:1", Concurrency: 4,
		Budget: NewBudget(PartSize), UploadLease: time.Minute}
	cases := []struct {
		name string
		edit func(*S3Options)
		want string
	}{
		{"no concurrency", func(o *S3Options) { o.Concurrency = 0 }, "upload concurrency"},
		{"no budget", func(o *S3Options) { o.Budget = nil }, "budget"},
		{"no lease", func(o *S3Options) { o.UploadLease = 0 }, "upload lease"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := good
			c.edit(&o)
			if _, err := NewS3(context.Background(), o, slog.Default()); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error about the %s", err, c.want)
			}
		})
	}
	if _, err := NewS3(context.Background(), good, slog.Default()); err != nil {
		t.Errorf("complete options: got %v, want a store", err)
	}

	jo := JanitorOptions{Interval: time.Minute, RetryInterval: time.Second, UntrackedAfter: time.Hour, Log: slog.Default()}
	for name, edit := range map[string]func(*JanitorOptions){
		"no interval":       func(o *JanitorOptions) { o.Interval = 0 },
		"no retry interval": func(o *JanitorOptions) { o.RetryInterval = 0 },
		"no untracked age":  func(o *JanitorOptions) { o.UntrackedAfter = 0 },
		"no logger":         func(o *JanitorOptions) { o.Log = nil },
	} {
		o := jo
		edit(&o)
		if err := o.check(); err == nil {
			t.Errorf("janitor options with %s: got no error, want one", name)
		}
	}
	if err := jo.check(); err != nil {
		t.Errorf("complete janitor options: got %v, want none", err)
	}
}
