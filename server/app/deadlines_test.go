package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/video"
)

// rawConn is a client connection that writes requests byte by byte as a test
// says, for bodies that arrive late or never.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, e *apptest.Env) *rawConn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (c *rawConn) write(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.conn, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// answer reads the next response, waiting up to wait for it.
func (c *rawConn) answer(wait time.Duration) (*http.Response, string, error) {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return nil, "", err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b), err
}

// closed waits up to wait for the server to close the connection; it returns
// nil once it has.
func (c *rawConn) closed(wait time.Duration) error {
	c.conn.SetReadDeadline(time.Now().Add(wait))
	n, err := c.br.Read(make([]byte, 1))
	switch {
	case n > 0:
		return errors.New("got more bytes, want the connection closed")
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("still open after %v", wait)
	case err != nil:
		return nil // EOF, or a reset: closed by the server
	}
	return errors.New("read nothing and no error")
}

func head(method, path, token string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: x\r\n", method, path)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	return b.String() + "\r\n"
}

const formType = "Content-Type: multipart/form-data; boundary=B"

// A request whose declared body never comes is still answered at once, and
// its connection closed, when the route does not need the body: refusals above
// all, which are given before the body is read. "At once" is before the read
// deadline of the body, after which the connection is closed.
func TestDeclaredBodyNeverSent(t *testing.T) {
	const readTimeout = 12 * time.Second
	e := apptest.Start(t, "local", "ASSETLAB_READ_TIMEOUT="+readTimeout.String(), "ASSETLAB_MAX_UPLOAD_BYTES=8388608")
	id := video.NewID()
	cases := []struct {
		name   string
		head   string
		status int
		body   string
	}{
		{"upload without token", head("POST", "/api/upload", "", formType, "Content-Length: 1000"), 401, "missing bearer token"},
		{"upload with a wrong token", head("POST", "/api/upload", "wrong-wrong-wrong-wrong", formType, "Content-Length: 1000"), 401, "invalid token"},
		{"chunked upload without token", head("POST", "/api/upload", "", formType, "Transfer-Encoding: chunked"), 401, "missing bearer token"},
		{"upload that is not a form", head("POST", "/api/upload", apptest.Token, "Content-Type: video/mp4", "Content-Length: 1000"), 400, "multipart/form-data"},
		{"upload declared over the limit", head("POST", "/api/upload", apptest.Token, formType, "Content-Length: 9437185"), 413, "file too large"},
		{"healthz with a body", head("GET", "/healthz", "", "Content-Length: 1000"), 200, `"ok"`},
		{"readyz with a body", head("GET", "/readyz", "", "Content-Length: 1000"), 200, `"ready"`},
		{"video with a body", head("GET", "/api/video/"+id, "", "Content-Length: 1000"), 404, "error"},
		{"library without token", head("GET", "/api/videos", "", "Content-Length: 1000"), 401, "missing bearer token"},
		{"delete without token", head("DELETE", "/api/videos/"+id, "", "Content-Length: 1000"), 401, "missing bearer token"},
		{"unknown API path", head("POST", "/api/nothing", "", "Content-Length: 1000"), 404, "no such endpoint"},
	}
	// All at once: each waits out its read deadline.
	problems := make([][]string, len(cases))
	var wg sync.WaitGroup
	for i, c := range cases {
		conn := dial(t, e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			report := func(format string, args ...any) {
				problems[i] = append(problems[i], fmt.Sprintf(format, args...))
			}
			if _, err := io.WriteString(conn.conn, c.head); err != nil {
				report("write: %v", err)
				return
			}
			resp, body, err := conn.answer(readTimeout / 2)
			if err != nil {
				report("no answer before the body's read deadline: %v", err)
				return
			}
			if resp.StatusCode != c.status || !strings.Contains(body, c.body) {
				report("got %d %q, want %d with %q", resp.StatusCode, body, c.status, c.body)
			}
			if !resp.Close {
				report("got no Connection: close on the answer")
			}
			if err := conn.closed(3 * readTimeout); err != nil {
				report("connection not closed by the server: %v", err)
			}
		}()
	}
	wg.Wait()
	for i, c := range cases {
		for _, p := range problems[i] {
			t.Errorf("%s: %s", c.name, p)
		}
	}
	e.AssertClean(nil, 5*time.Second)

	// Requests without a body keep their connection alive.
	conn := dial(t, e)
	for i := range 2 {
		conn.write(head("GET", "/healthz", ""))
		resp, _, err := conn.answer(15 * time.Second)
		if err != nil || resp.StatusCode != 200 || resp.Close {
			t.Fatalf("request %d on a kept-alive connection: got %v, %v", i+1, resp, err)
		}
	}
	// A refusal whose small body did arrive is answered the same.
	conn = dial(t, e)
	conn.write(head("POST", "/api/upload", "", formType, "Content-Length: 5") + "hello")
	if resp, _, err := conn.answer(15 * time.Second); err != nil || resp.StatusCode != 401 {
		t.Fatalf("refusal with its body: got %v, %v, want 401", resp, err)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count file descriptors: %v", err)
	}
	return len(entries)
}

// A hundred connections that declare bodies they never send, or never finish
// their headers, are all answered or cut off and closed, and the server's file
// descriptors are given back.
func TestManyDeclaredBodiesNeverSent(t *testing.T) {
	e := apptest.Start(t, "local", "ASSETLAB_READ_TIMEOUT=1s")
	if code, _ := e.Get("/healthz"); code != 200 {
		t.Fatalf("/healthz: got %d", code)
	}
	http.DefaultClient.CloseIdleConnections()
	before := openFDs(t)

	const n = 100
	conns := make([]*rawConn, n)
	for i := range conns {
		conns[i] = dial(t, e)
		switch i % 3 {
		case 0:
			conns[i].write(head("POST", "/api/upload", "", formType, "Content-Length: 1000"))
		case 1:
			conns[i].write(head("GET", "/healthz", "", "Content-Length: 1000"))
		case 2:
			conns[i].write("GET /healthz HTTP/1.1\r\nHost: x\r\n") // headers never finished
		}
	}
	during := openFDs(t)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%3 != 2 {
				resp, _, err := c.answer(30 * time.Second)
				if err == nil && resp.StatusCode != 401 && resp.StatusCode != 200 {
					err = fmt.Errorf("got status %d, want 401 or 200", resp.StatusCode)
				}
				if err != nil {
					errs[i] = fmt.Errorf("no answer: %w", err)
					return
				}
			}
			if err := c.closed(30 * time.Second); err != nil {
				errs[i] = fmt.Errorf("not closed by the server: %w", err)
			}
		}()
	}
	wg.Wait()
	failed := 0
	for i, err := range errs {
		if err != nil {
			if failed++; failed <= 5 {
				t.Errorf("connection %d: %v", i, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d connections failed", failed, n)
	}
	for _, c := range conns {
		c.conn.Close()
	}
	var after int
	apptest.Within(30*time.Second, func() bool { after = openFDs(t); return after <= before+5 })
	t.Logf("open file descriptors: %d before, %d with the connections open, %d after", before, during, after)
	if after > before+5 {
		t.Errorf("got %d open file descriptors after, want about %d as before", after, before)
	}
}

// An upload that stalls anywhere in its body, before the file as well as in
// it, is cut off after ASSETLAB_UPLOAD_STALL_TIMEOUT and leaves nothing.
func TestUploadStallCut(t *testing.T) {
	const stall = 2 * time.Second
	fileHead := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
	title := "--B\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nholiday\r\n"
	cases := []struct{ name, sent string }{
		{"after the headers", ""},
		{"in the preamble", "--B\r\n"},
		{"after another field", title},
		{"in the part headers", title + "--B\r\nContent-Disposition: form-data; name=\"file\""},
		{"in the file", fileHead + string(apptest.VideoBytes(64<<10))},
		{"in the file after a part", fileHead + string(apptest.VideoBytes(6<<20))},
	}
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_UPLOAD_STALL_TIMEOUT="+stall.String())
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					conn := dial(t, e)
					conn.write(head("POST", "/api/upload", apptest.Token, formType, "Content-Length: 100000000") + c.sent)
					start := time.Now()
					resp, body, err := conn.answer(30 * time.Second)
					took := time.Since(start)
					if err != nil {
						t.Fatalf("not cut off: %v", err)
					}
					if resp.StatusCode != 400 || !strings.Contains(body, "the upload was interrupted") {
						t.Errorf("got %d %q, want 400 with \"the upload was interrupted\"", resp.StatusCode, body)
					}
					if took < stall/2 {
						t.Errorf("cut off after %v, want about %v", took, stall)
					}
					if err := conn.closed(15 * time.Second); err != nil {
						t.Errorf("connection not closed by the server: %v", err)
					}
					e.AssertClean(nil, 15*time.Second)
				})
			}
		})
	}
}

// An upload that is slow but keeps sending, a few KiB every half stall
// timeout, from the preamble to the end, is not cut off.
func TestSlowSteadyUploadNotCut(t *testing.T) {
	const stall = 3 * time.Second
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_UPLOAD_STALL_TIMEOUT="+stall.String())
			content := apptest.VideoBytes(12 << 10)
			pieces := []string{
				"--B\r\n",
				"Content-Disposition: form-data; name=\"title\"\r\n\r\n",
				"holiday\r\n--B\r\n",
				"Content-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n",
				"Content-Type: video/mp4\r\n\r\n",
			}
			for i := 0; i < len(content); i += 4 << 10 {
				pieces = append(pieces, string(content[i:i+4<<10]))
			}
			pieces = append(pieces, "\r\n--B--\r\n")
			size := 0
			for _, p := range pieces {
				size += len(p)
			}
			conn := dial(t, e)
			conn.write(head("POST", "/api/upload", apptest.Token, formType, fmt.Sprintf("Content-Length: %d", size)))
			for _, p := range pieces {
				time.Sleep(stall / 2)
				conn.write(p)
			}
			resp, body, err := conn.answer(30 * time.Second)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("got %d %q, want 201", resp.StatusCode, body)
			}
			var got struct{ ID string }
			if err := json.Unmarshal([]byte(body), &got); err != nil || !video.ValidID(got.ID) {
				t.Fatalf("answer %q: no video ID (%v)", body, err)
			}
			id := got.ID
			e.AssertClean([]string{jobs.QueueKey(id), video.OriginalKey(id, ".mp4"), video.MetaKey(id)}, 0)
		})
	}
}
