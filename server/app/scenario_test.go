package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/assetlab/assetlab/server/api"
)

// scenario is one request to the API and the answer it must get: the API's
// tests as data, after pocketbase's tests.ApiScenario.
type scenario struct {
	name   string
	method string
	// path may hold "{id}", replaced by the vars given to run.
	path   string
	token  string
	header map[string]string
	// body, if set, makes the request's Content-Type and body.
	body func() (contentType string, r io.Reader)

	status int
	// code is the error code the JSON body must carry; every answer of 400
	// and up but a HEAD's (which has no body) must carry one of api.Codes.
	code string
	// has are fragments the body must hold.
	has []string
	// keys, if set, are exactly the keys of the body's JSON object.
	keys []string
	// headers must be in the answer with these values.
	headers map[string]string
	// empty: the body must be empty (HEAD).
	empty bool
}

// answer is what a scenario got.
type answer struct {
	status int
	header http.Header
	body   []byte
	// code is the error code of the body, if any.
	code string
}

// run sends the scenario's request to the server at base and checks the
// answer.
func (s scenario) run(t *testing.T, base string, vars map[string]string) answer {
	t.Helper()
	path := s.path
	for k, v := range vars {
		path = strings.ReplaceAll(path, "{"+k+"}", v)
	}
	var body io.Reader
	contentType := ""
	if s.body != nil {
		contentType, body = s.body()
	}
	req, err := http.NewRequest(s.method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range s.header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: raw}

	if a.status != s.status {
		t.Errorf("%s %s: got %d %s, want %d", s.method, path, a.status, raw, s.status)
	}
	for k, v := range s.headers {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s %s: header %s: got %q, want %q", s.method, path, k, got, v)
		}
	}
	for _, frag := range s.has {
		if !strings.Contains(string(raw), frag) {
			t.Errorf("%s %s: body %s, want it to hold %s", s.method, path, raw, frag)
		}
	}
	if s.empty && len(raw) > 0 {
		t.Errorf("%s %s: got a body %q, want none", s.method, path, raw)
	}
	var obj map[string]json.RawMessage
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && json.Unmarshal(raw, &obj) == nil
	if s.keys != nil {
		var keys []string
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		if want := slices.Sorted(slices.Values(s.keys)); !isJSON || !slices.Equal(keys, want) {
			t.Errorf("%s %s: body %s, want a JSON object with exactly the keys %v", s.method, path, raw, want)
		}
	}
	if a.status >= 400 && s.method != http.MethodHead {
		var e struct{ Error, Code string }
		if !isJSON || json.Unmarshal(raw, &e) != nil || e.Error == "" {
			t.Errorf("%s %s: got %d %q, want a JSON error", s.method, path, a.status, raw)
		}
		a.code = e.Code
		if !slices.Contains(api.Codes, api.Code(e.Code)) {
			t.Errorf("%s %s: code %q is not one of the API's codes", s.method, path, e.Code)
		}
	}
	if a.code != s.code {
		t.Errorf("%s %s: got code %q (%s), want %q", s.method, path, a.code, raw, s.code)
	}
	return a
}

// runAll runs each scenario as a subtest, and records the error codes seen.
func runAll(t *testing.T, base string, vars map[string]string, seen map[string]bool, list []scenario) {
	t.Helper()
	for _, s := range list {
		t.Run(s.name, func(t *testing.T) {
			if a := s.run(t, base, vars); a.code != "" && seen != nil {
				seen[a.code] = true
			}
		})
	}
}
