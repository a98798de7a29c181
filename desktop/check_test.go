package desktop

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
)

// When no answer comes, the check says why in words for the case (a
// certificate not trusted or made out for another name, a name not known)
// and keeps the error itself.
func TestCheckNoAnswerSaysWhy(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	// The test certificate is made out for 127.0.0.1 and example.com, not
	// localhost.
	byName := strings.Replace(tlsSrv.URL, "127.0.0.1", "localhost", 1)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	for _, tc := range []struct {
		name   string
		client *http.Client
		server string
		has    string
		is     func(error) bool
	}{
		{"self-signed certificate", &http.Client{}, tlsSrv.URL, "does not trust", func(err error) bool {
			var e x509.UnknownAuthorityError
			return errors.As(err, &e)
		}},
		{"certificate for another name", tlsSrv.Client(), byName, "made out for another name", func(err error) bool {
			var e x509.HostnameError
			return errors.As(err, &e)
		}},
		{"nothing listens", &http.Client{}, closed, "cannot be reached", func(err error) bool {
			return errors.Is(err, syscall.ECONNREFUSED)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkServer(context.Background(), tc.client, tc.server, "tok")
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Code != CheckUnreachable {
				t.Fatalf("got %v, want a CheckError %s", err, CheckUnreachable)
			}
			if !strings.Contains(err.Error(), tc.has) {
				t.Errorf("got %q, want %q in it", err, tc.has)
			}
			if !tc.is(err) {
				t.Errorf("got %#v, want the cause kept (Unwrap)", ce.Err)
			}
		})
	}

	// A name the resolver does not know (made here: the machine may have no
	// DNS to ask).
	dnsErr := &url.Error{Op: "Get", URL: "http://nas.lan:3000/api/config", Err: &net.OpError{
		Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "nas.lan", IsNotFound: true}}}
	err = noAnswer(context.Background(), "http://nas.lan:3000", dnsErr)
	if want := "the name nas.lan is not known"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want %q in it", err, want)
	}
	var de *net.DNSError
	if !errors.As(err, &de) {
		t.Errorf("got %#v, want the DNS error kept", err)
	}
}

// An http:// address that sends the client on to https:// (or to another
// host) is not saved: uploads would not follow the redirect. The check says
// where the server answers.
func TestCheckRefusesARedirectedAddress(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/config" {
			w.Write([]byte(`{"max_upload_bytes":1000,"qualities":[],"features":{}}`))
			return
		}
		w.Write([]byte(`{"videos":[]}`))
	}))
	defer srv.Close()
	redirect := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer redirect.Close()

	err := checkServer(context.Background(), srv.Client(), redirect.URL, "tok")
	var ce *CheckError
	if !errors.As(err, &ce) || ce.Code != CheckRedirected {
		t.Fatalf("got %v, want a CheckError %s", err, CheckRedirected)
	}
	if want := "the server answers at " + srv.URL + ": use that address"; !strings.Contains(err.Error(), want) {
		t.Errorf("got %q, want %q in it", err, want)
	}
	if err := checkServer(context.Background(), srv.Client(), srv.URL, "tok"); err != nil {
		t.Errorf("the address it answers at: got %v, want it taken", err)
	}
}
