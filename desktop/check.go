package desktop

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// checkTimeout bounds the whole check of another server, so that Save
// answers even when the address swallows packets.
var checkTimeout = 10 * time.Second

// What can be wrong with another server, for the UI's words and for tests.
const (
	CheckUnreachable  = "unreachable"   // no answer at that address, or none in time
	CheckNotAssetLab  = "not_assetlab"  // something answers, but not an AssetLab server
	CheckTokenRefused = "token_refused" // the server refused the token (401)
	CheckHTTPError    = "http_error"    // any other error answer
	CheckRedirected   = "redirected"    // the server answers at another address (http → https)
)

// An answer is read for its JSON up to this size.
const checkBodyLimit = 64 << 10

// CheckError is why another server was not saved: a code above and what a
// person reads.
type CheckError struct {
	Code    string
	Status  int // the HTTP status, 0 when there was no answer
	Message string
	// Err is why no answer came (a connection, name or certificate
	// error), nil when one came.
	Err error
}

func (e *CheckError) Error() string { return "Not saved: " + e.Message }

func (e *CheckError) Unwrap() error { return e.Err }

// checkServer asks server whether it is an AssetLab server (GET /api/config
// answers its client config) and whether it takes token (GET /api/videos,
// the library, needs it). It creates nothing on the server.
func checkServer(ctx context.Context, client *http.Client, server, token string) error {
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	base := strings.TrimRight(server, "/")

	resp, err := checkGet(ctx, client, base+"/api/config", "")
	if err != nil {
		return noAnswer(ctx, server, err)
	}
	var cfg struct {
		MaxUploadBytes int64     `json:"max_upload_bytes"`
		Qualities      *[]string `json:"qualities"`
		Features       *struct{} `json:"features"`
	}
	decodeErr := json.NewDecoder(io.LimitReader(resp.Body, checkBodyLimit)).Decode(&cfg)
	resp.Body.Close()
	// The client follows redirects; uploads (POST, tus PATCH) would not get
	// through one, so the address saved must be where the server answers.
	if at, moved := movedTo(server, resp.Request.URL); moved {
		return &CheckError{Code: CheckRedirected, Status: resp.StatusCode, Message: fmt.Sprintf(
			"the server answers at %s: use that address.", at)}
	}
	switch {
	case resp.StatusCode >= 500:
		return &CheckError{Code: CheckHTTPError, Status: resp.StatusCode, Message: fmt.Sprintf(
			"the server at %s answered with an error (HTTP %d %s). Try again later, or ask its administrator.",
			server, resp.StatusCode, http.StatusText(resp.StatusCode))}
	case resp.StatusCode != http.StatusOK || decodeErr != nil || cfg.MaxUploadBytes <= 0 || cfg.Features == nil:
		return &CheckError{Code: CheckNotAssetLab, Status: resp.StatusCode, Message: fmt.Sprintf(
			"something answers at %s, but it is not an AssetLab server. Check the address (and its port).", server)}
	}

	resp, err = checkGet(ctx, client, base+"/api/videos", token)
	if err != nil {
		return noAnswer(ctx, server, err)
	}
	var body struct {
		Error string `json:"error"`
		Code  string `json:"code"`
	}
	json.NewDecoder(io.LimitReader(resp.Body, checkBodyLimit)).Decode(&body)
	resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized:
		return &CheckError{Code: CheckTokenRefused, Status: resp.StatusCode, Message: fmt.Sprintf(
			"the server at %s refused the upload token. Check the token and try again.", server)}
	default:
		msg := fmt.Sprintf("the server at %s answered with an error (HTTP %d %s)",
			server, resp.StatusCode, http.StatusText(resp.StatusCode))
		if body.Error != "" {
			msg += ": " + strings.TrimSuffix(body.Error, ".")
		}
		return &CheckError{Code: CheckHTTPError, Status: resp.StatusCode, Message: msg + "."}
	}
}

// movedTo is the address the server answered at, when its scheme or host is
// not those of server: final is the URL of the request that got the answer
// to server+"/api/config".
func movedTo(server string, final *url.URL) (string, bool) {
	given, err := url.Parse(server)
	if err != nil || final == nil {
		return "", false
	}
	if strings.EqualFold(given.Scheme, final.Scheme) && strings.EqualFold(given.Host, final.Host) {
		return "", false
	}
	at := *final
	at.RawQuery, at.Fragment = "", ""
	at.Path = strings.TrimSuffix(at.Path, "/api/config")
	at.RawPath = ""
	return at.String(), true
}

func checkGet(ctx context.Context, client *http.Client, url, token string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return client.Do(req)
}

// noAnswer says why no answer came: the time ran out, the server's
// certificate is not trusted, its name is not known, or the address could
// not be reached at all.
func noAnswer(ctx context.Context, server string, err error) error {
	slog.Warn("the server check got no answer", slog.String("server", server), slog.Any("err", err))
	ce := &CheckError{Code: CheckUnreachable, Err: err}
	var (
		hostErr  x509.HostnameError
		authErr  x509.UnknownAuthorityError
		certErr  *tls.CertificateVerificationError
		dnsErr   *net.DNSError
		timedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
	)
	switch {
	case timedOut:
		ce.Message = fmt.Sprintf("the server at %s did not answer within %d seconds. Check the address and your connection.",
			server, int(checkTimeout/time.Second))
	case errors.As(err, &hostErr):
		ce.Message = fmt.Sprintf("the server at %s has a certificate made out for another name (%s). Check the address, or ask its administrator.",
			server, hostErr.Error())
	case errors.As(err, &authErr):
		ce.Message = fmt.Sprintf("the server at %s has a certificate this computer does not trust "+
			"(self-signed, or from an unknown authority). Ask its administrator for a trusted certificate.", server)
	case errors.As(err, &certErr):
		ce.Message = fmt.Sprintf("the server at %s has a certificate that is not valid (%s). Ask its administrator.",
			server, certErr.Err)
	case errors.As(err, &dnsErr):
		ce.Message = fmt.Sprintf("the name %s is not known. Check the address.", dnsErr.Name)
	default:
		ce.Message = fmt.Sprintf("the server at %s cannot be reached. Check the address and your connection, "+
			"and that the server is running.", server)
	}
	return ce
}
