package storage

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Local stores objects as files under a directory. Writes go to a temporary file
// that is renamed (or hard-linked, for Create) into place, so readers never see a
// partial object and Create is atomic even across processes sharing the directory.
//
// Its presigned URLs are HMAC-signed, expiring URLs under /files/{name}/ that
// ServeSigned answers with full HTTP Range support: the process that has the
// files serves them (the SelfServed capability), and programs on this machine
// read them in place (the Files capability).
type Local struct {
	name    string
	root    string
	tmp     string
	secret  []byte
	baseURL string
	// owners holds a locked file per live store using root; owner names this
	// one's, and its temp files (local_janitor.go).
	owners    string
	owner     string
	ownerFile *os.File
}

var (
	_ Store      = (*Local)(nil)
	_ Files      = (*Local)(nil)
	_ SelfServed = (*Local)(nil)
)

// NewLocal opens (creating if needed) the store called name under root. secret
// signs URLs; baseURL, where the server that serves them is reached (a scheme
// and host, such as "http://127.0.0.1:3000"), starts those of PresignGet.
func NewLocal(name, root string, secret []byte, baseURL string) (*Local, error) {
	if name == "" || strings.ContainsAny(name, "/\\") {
		return nil, fmt.Errorf("local store: bad name %q", name)
	}
	if len(secret) < 16 {
		return nil, errors.New("local store: signing secret too short")
	}
	if err := checkBase(baseURL); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	tmp := filepath.Join(root, ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	owners := filepath.Join(root, ".tmp-owners")
	owner, ownerFile, err := openOwner(owners)
	if err != nil {
		return nil, fmt.Errorf("local store: %w", err)
	}
	return &Local{name: name, root: root, tmp: tmp, secret: secret, baseURL: baseURL,
		owners: owners, owner: owner, ownerFile: ownerFile}, nil
}

// Name is the store's name, as it appears in its URLs.
func (l *Local) Name() string { return l.name }

// ValidKey reports whether key is a clean relative object key.
func ValidKey(key string) bool {
	if key == "" || len(key) > 1024 || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") ||
		strings.ContainsAny(key, "\\\x00") {
		return false
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".tmp") {
			return false
		}
	}
	return true
}

func (l *Local) path(key string) (string, error) {
	if !ValidKey(key) {
		return "", fmt.Errorf("invalid key %q", key)
	}
	return filepath.Join(l.root, filepath.FromSlash(key)), nil
}

// Path is the file that holds key, for programs on this machine (FFmpeg)
// that can read it directly.
func (l *Local) Path(key string) (string, error) { return l.path(key) }

func (l *Local) tempFile() (*os.File, error) {
	return os.CreateTemp(l.tmp, l.owner+".*")
}

func (l *Local) Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error) {
	dst, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	f, err := l.tempFile()
	if err != nil {
		return Info{}, fmt.Errorf("put %s: %w", key, mapWriteErr(err))
	}
	tmp := f.Name()
	fail := func(err error) (Info, error) {
		f.Close()
		os.Remove(tmp)
		return Info{}, fmt.Errorf("put %s: %w", key, mapWriteErr(err))
	}
	if _, err := io.Copy(f, ctxReader{ctx, r}); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fail(err)
	}
	return l.Stat(ctx, key)
}

func (l *Local) Create(ctx context.Context, key string, body []byte, contentType string) error {
	dst, err := l.path(key)
	if err != nil {
		return err
	}
	f, err := l.tempFile()
	if err != nil {
		return fmt.Errorf("create %s: %w", key, mapWriteErr(err))
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", key, mapWriteErr(err))
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", key, mapWriteErr(err))
	}
	// link(2) fails with EEXIST if dst exists: an atomic create-if-absent, also
	// between processes.
	if err := os.Link(tmp, dst); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return ErrExists
		}
		return fmt.Errorf("create %s: %w", key, err)
	}
	return nil
}

func (l *Local) info(key string, fi fs.FileInfo) Info {
	ct := mime.TypeByExtension(path.Ext(key))
	if ct == "" {
		ct = "application/octet-stream"
	}
	ino := fileID(fi)
	return Info{
		Key:         key,
		Size:        fi.Size(),
		ModTime:     fi.ModTime(),
		ContentType: ct,
		ETag:        fmt.Sprintf(`"%x-%x-%x"`, ino, fi.Size(), fi.ModTime().UnixNano()),
	}
}

func (l *Local) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Info{}, mapFSErr(key, err)
	}
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		f.Close()
		return nil, Info{}, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	return f, l.info(key, fi), nil
}

func (l *Local) Stat(ctx context.Context, key string) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Info{}, mapFSErr(key, err)
	}
	if fi.IsDir() {
		return Info{}, fmt.Errorf("stat %s: %w", key, ErrNotFound)
	}
	return l.info(key, fi), nil
}

func (l *Local) Delete(ctx context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	// Prune directories left empty, up to the root; failures just mean "not empty".
	for dir := filepath.Dir(p); dir != l.root && strings.HasPrefix(dir, l.root); dir = filepath.Dir(dir) {
		if os.Remove(dir) != nil {
			break
		}
	}
	return nil
}

func (l *Local) List(ctx context.Context, prefix string) ([]Info, error) {
	// Walk from the deepest directory the prefix names.
	start := l.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(l.root, filepath.FromSlash(prefix[:i]))
	}
	var out []Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p == l.tmp || p == l.owners {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while listing
			}
			return err
		}
		out = append(out, l.info(key, fi))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (l *Local) Ping(ctx context.Context) error {
	if _, err := os.Stat(l.tmp); err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return nil
}

// PresignGet returns the base URL + /files/{name}/{key}?exp=...&sig=...
func (l *Local) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	return l.PresignGetAt(ctx, l.baseURL, key, ttl)
}

// PresignGetAt is PresignGet with the URL rooted at base.
func (l *Local) PresignGetAt(ctx context.Context, base, key string, ttl time.Duration) (string, error) {
	if err := checkBase(base); err != nil {
		return "", fmt.Errorf("presign %s: %w", key, err)
	}
	if !ValidKey(key) {
		return "", fmt.Errorf("invalid key %q", key)
	}
	exp := strconv.FormatInt(time.Now().Add(ttl).Unix(), 10)
	q := url.Values{"exp": {exp}, "sig": {l.sign(key, exp)}}
	return strings.TrimRight(base, "/") + "/files/" + l.name + "/" + escapeKey(key) + "?" + q.Encode(), nil
}

// checkBase accepts the start of an absolute http(s) URL: signed URLs are
// handed to browsers and FFmpeg, which have no address to resolve a path
// against.
func checkBase(base string) error {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("base URL %q is not an absolute http(s) URL", base)
	}
	return nil
}

func (l *Local) sign(key, exp string) string {
	m := hmac.New(sha256.New, l.secret)
	fmt.Fprintf(m, "%s\n%s\n%s", l.name, key, exp)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func escapeKey(key string) string {
	segs := strings.Split(key, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// ServeSigned serves the object key if the request carries a valid, unexpired
// signature, with Range, If-Range and conditional GET support.
func (l *Local) ServeSigned(w http.ResponseWriter, r *http.Request, key string) {
	exp, sig := r.URL.Query().Get("exp"), r.URL.Query().Get("sig")
	expUnix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || !ValidKey(key) || !hmac.Equal([]byte(sig), []byte(l.sign(key, exp))) {
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	if time.Now().Unix() > expUnix {
		http.Error(w, "link expired", http.StatusForbidden)
		return
	}
	rc, info, err := l.Get(r.Context(), key)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", info.ContentType)
	w.Header().Set("ETag", info.ETag)
	w.Header().Set("Cache-Control", fmt.Sprintf("private, max-age=%d", max(0, expUnix-time.Now().Unix())))
	http.ServeContent(w, r, "", info.ModTime, rc.(io.ReadSeeker))
}

func mapFSErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
		return fmt.Errorf("%s: %w", key, ErrNotFound)
	}
	return err
}

// mapWriteErr marks a write refused for lack of space with ErrFull.
func mapWriteErr(err error) error {
	if noSpace(err) {
		return fmt.Errorf("%w: %w", ErrFull, err)
	}
	return err
}

// ctxReader stops a copy when its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
