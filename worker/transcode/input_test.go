package transcode

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/worker/mediatest"
)

func TestFormatFor(t *testing.T) {
	cases := []struct {
		contentType, key string
		want             string
		ok               bool
	}{
		{"video/mp4", "originals/x.mp4", FormatMOV, true},
		{"video/quicktime", "originals/x.mov", FormatMOV, true},
		{"video/webm", "originals/x.webm", FormatMatroska, true},
		{"video/x-matroska", "originals/x.mkv", FormatMatroska, true},
		// The content type decides; the key only when there is none.
		{"video/webm", "originals/x.mp4", FormatMatroska, true},
		{"", "originals/x.MOV", FormatMOV, true},
		{"", "originals/x.mkv", FormatMatroska, true},
		{"application/dash+xml", "originals/x.mp4", "", false},
		{"", "originals/x.mpd", "", false},
		{"", "originals/x", "", false},
	}
	for _, c := range cases {
		got, ok := FormatFor(c.contentType, c.key)
		if got != c.want || ok != c.ok {
			t.Errorf("FormatFor(%q, %q): got %q %v, want %q %v", c.contentType, c.key, got, ok, c.want, c.ok)
		}
	}
}

func TestInputArgs(t *testing.T) {
	cases := []struct {
		in   Input
		want []string // in this order, among the arguments
		not  []string
	}{
		{Input{"/data/raw/originals/x.mp4", FormatMOV},
			[]string{"-f mov", "-enable_drefs 0", "-use_absolute_path 0", "-format_whitelist mov", "-protocol_whitelist file"}, []string{"-reconnect"}},
		{Input{"/data/raw/originals/x.webm", FormatMatroska},
			[]string{"-f matroska", "-format_whitelist matroska", "-protocol_whitelist file"}, []string{"-enable_drefs", "-reconnect"}},
		{Input{"http://127.0.0.1:9000/raw/originals/x.mov?X-Amz-Signature=s", FormatMOV},
			[]string{"-f mov", "-enable_drefs 0", "-protocol_whitelist http,tcp", "-reconnect 1"}, []string{"file", "https"}},
		{Input{"https://s3.example.com/raw/originals/x.mkv?X-Amz-Signature=s", FormatMatroska},
			[]string{"-f matroska", "-protocol_whitelist https,tls,tcp", "-reconnect 1"}, []string{"file", "http,"}},
	}
	for _, c := range cases {
		args, err := c.in.args()
		if err != nil {
			t.Errorf("%+v: %v", c.in, err)
			continue
		}
		joined := strings.Join(args, " ")
		for _, w := range c.want {
			if !strings.Contains(joined, w) {
				t.Errorf("%+v: args %q lack %q", c.in, joined, w)
			}
		}
		for _, n := range c.not {
			if strings.Contains(joined, n) {
				t.Errorf("%+v: args %q have %q", c.in, joined, n)
			}
		}
	}
	for _, bad := range []Input{
		{"/data/x.mp4", ""},
		{"/data/x.mp4", "dash"},
		{"relative/x.mp4", FormatMOV},
		{"file:///data/x.mp4", FormatMOV},
		{"ftp://host/x.mp4", FormatMOV},
		{"concat:/a.mp4|/b.mp4", FormatMOV},
	} {
		if args, err := bad.args(); err == nil {
			t.Errorf("%+v: got args %q, want an error", bad, args)
		}
	}
}

// listener counts the connections made to it, and serves clip to any request.
type listener struct {
	url   string
	conns atomic.Int64
}

func listen(t *testing.T, clip string) *listener {
	t.Helper()
	l := &listener{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, clip)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			l.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	l.url = srv.URL
	return l
}

// Nothing inside an upload makes FFmpeg open another format, file or URL,
// whether it reads the upload from disk or over HTTP.
func TestReferencesAreNotFollowed(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 2, Extra: []string{"-movflags", "+faststart"}})
	trap := listen(t, clip)
	// The uploads themselves, served as storage would serve them.
	dir := t.TempDir()
	store := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(store.Close)

	var shells []mediatest.Shell
	for _, ref := range []string{trap.url + "/clip.mp4", "file://" + clip, "file:" + clip, filepath.Base(clip)} {
		shells = append(shells, mediatest.Shells(ref)...)
	}
	// A reference relative to the manifest: a file beside it.
	os.WriteFile(filepath.Join(dir, "beside.mp4"), mustRead(t, clip), 0o644)
	shells = append(shells, mediatest.Shell{Name: "dash to a file beside it", Data: []byte(mediatest.DashInMOV("beside.mp4"))})

	for i, sh := range shells {
		ext := ".mov"
		if strings.HasSuffix(sh.Name, "mkv") {
			ext = ".mkv"
		} else if strings.HasSuffix(sh.Name, "mp4") {
			ext = ".mp4"
		}
		name := filepath.Join(dir, "upload"+string(rune('a'+i%26))+string(rune('a'+i/26))+ext)
		if err := os.WriteFile(name, sh.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, loc := range []string{name, store.URL + "/" + filepath.Base(name) + "?X-Amz-Signature=secret"} {
			in, err := NewInput(loc, "", name)
			if err != nil {
				t.Fatal(err)
			}
			src, _, err := Transcode(context.Background(), in, t.TempDir(), options(), nil)
			var te *Error
			if !errors.As(err, &te) || te.Class != ClassInput || te.Reason != ReasonUnreadable {
				t.Errorf("%s read from %s: got %v (source %+v), want an input error saying %q", sh.Name, loc[:4], err, src, ReasonUnreadable)
				continue
			}
			if strings.Contains(te.Detail, "secret") {
				t.Errorf("%s: detail %q shows the URL's signature", sh.Name, te.Detail)
			}
		}
	}
	if n := trap.conns.Load(); n != 0 {
		t.Errorf("the listener on loopback accepted %d connections, want none", n)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Failures that are not the file's are classed as the machine's or storage's.
func TestFailureClasses(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1})
	bin := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(bin, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A server that cuts every response short.
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000")
		w.Write(mustRead(t, clip)[:1000])
		if hj, ok := w.(http.Hijacker); ok {
			c, _, _ := hj.Hijack()
			c.(*net.TCPConn).SetLinger(0)
			c.Close()
		}
	}))
	t.Cleanup(cut.Close)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
	}))
	t.Cleanup(failing.Close)
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedURL := "http://" + closed.Addr().String() + "/x.mp4?X-Amz-Signature=secret"
	closed.Close()

	cases := []struct {
		name   string
		input  string
		opts   Options
		class  Class
		reason string
	}{
		{"ffprobe missing", clip, ffprobeAt(filepath.Join(bin, "nothing")), ClassEnvironment, ReasonMissing},
		{"ffmpeg missing", clip, ffmpegAt(filepath.Join(bin, "nothing")), ClassEnvironment, ReasonMissing},
		{"ffmpeg crashes", clip, ffmpegAt(script("segv", "kill -SEGV $$")), ClassEnvironment, ReasonCrashed},
		{"temp disk full", clip, ffmpegAt(script("full", "echo 'av_interleaved_write_frame(): No space left on device' >&2; exit 1")), ClassEnvironment, ReasonNoSpace},
		{"encoder missing", clip, ffmpegAt(script("noenc", "echo 'Unknown encoder '\"'\"'libx264'\"'\" >&2; exit 1")), ClassEnvironment, ReasonNoEncoder},
		{"unknown ffmpeg failure", clip, ffmpegAt(script("odd", "echo 'something new' >&2; exit 1")), ClassEnvironment, ReasonFailed},
		{"storage refuses connections", closedURL, options(), ClassTransient, ReasonStorage},
		{"storage answers 503", failing.URL + "/x.mp4", options(), ClassTransient, ReasonStorage},
		{"storage resets the connection", cut.URL + "/x.mp4", options(), ClassTransient, ReasonStorage},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			in, err := NewInput(c.input, "video/mp4", "x.mp4")
			if err != nil {
				t.Fatal(err)
			}
			_, _, err = Transcode(ctx, in, t.TempDir(), c.opts, nil)
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want an *Error", err)
			}
			if te.Class != c.class || te.Reason != c.reason {
				t.Errorf("got %s %q (%s), want %s %q", te.Class, te.Reason, te.Detail, c.class, c.reason)
			}
			if errors.Is(err, ErrBadInput) {
				t.Errorf("%v matches ErrBadInput", err)
			}
			if strings.Contains(te.Detail, "secret") {
				t.Errorf("detail %q shows the URL's signature", te.Detail)
			}
		})
	}
}

func TestRedact(t *testing.T) {
	in := "http://h:9/raw/originals/x.mp4?X-Amz-Credential=k&X-Amz-Signature=abc: Server returned 403 Forbidden | https://a/b?sig=1 and /tmp/x?y"
	got := redact(in)
	if strings.Contains(got, "Signature") || strings.Contains(got, "sig=1") || strings.Contains(got, "Credential") {
		t.Errorf("redact: got %q, want no query", got)
	}
	for _, keep := range []string{"http://h:9/raw/originals/x.mp4:", "https://a/b and", "/tmp/x?y"} {
		if !strings.Contains(got, keep) {
			t.Errorf("redact: got %q, want it to keep %q", got, keep)
		}
	}
	if l := tail(strings.Repeat("a\n", 100)+"one\ntwo\n", 2); l != "one | two" {
		t.Errorf("tail: got %q, want %q", l, "one | two")
	}
}
