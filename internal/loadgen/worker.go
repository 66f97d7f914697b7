package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// newClient returns the one client every worker shares: keep-alive
// connections, an idle pool as large as the concurrency, no proxy, no
// redirects, no transparent compression.
func newClient(concurrency int) *http.Client { return newClientFrom(concurrency, nil) }

// newClientFrom is newClient with connections dialled from local (nil: the
// default source address).
func newClientFrom(concurrency int, local *net.TCPAddr) *http.Client {
	d := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
	}
	if local != nil {
		d.LocalAddr = local
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   5 * time.Second,
		ResponseHeaderTimeout: RequestTimeout,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// basicAuth returns the Authorization header value for id and secret, each
// form-urlencoded first as RFC 6749 §2.3.1 requires.
func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// checkFunc judges one response; a non-nil error makes the request failed.
type checkFunc func(status int, body []byte) error

// target is what a worker sends: one URL, one Authorization header, and a
// body that is either fixed or rebuilt per request (refresh).
type target struct {
	// method is the HTTP method; "" means POST with a form body. A GET
	// carries no body.
	method string
	url    string
	auth   string // "" sends no Authorization header
	// header holds further request headers (X-Auth-Token).
	header http.Header
	body   []byte // fixed form body
	// contentType is the type of POST bodies; "" is a form.
	contentType string
	// next, when set, replaces body: it is called once per worker and
	// returns that worker's per-request body builder and response check.
	next func(w *worker) (build func() []byte, check checkFunc, err error)
	// check judges responses when next is nil.
	check checkFunc
	// sources, when set, gives every worker its own client whose source
	// address rotates every RotateEvery requests.
	sources *sourcePool
	// note is copied to Result.Note.
	note string
	// stop, when set, releases what prepare started for the target (the
	// ModeVerifyLib server and verifier).
	stop func()
}

// worker is one sequential request loop and what it recorded.
type worker struct {
	id int
	// url, when set, is this worker's own URL instead of the target's.
	url    string
	client *http.Client
	own    bool // client is this worker's own (source rotation)
	sent   int  // requests sent, warmup included
	t      *target
	buf    bytes.Buffer
	lat    []time.Duration
	maxLat int // samples this worker may keep
	reqs   int64
	errs   int64
	n400   int64  // measured successes answered 400
	n429   int64  // measured successes answered 429
	first  string // first failure of this worker
	firstT time.Time
}

// post sends body to u and returns the status and response body (valid
// until the next request).
func (w *worker) post(ctx context.Context, u string, body []byte) (int, []byte, error) {
	return w.send(ctx, http.MethodPost, u, body)
}

// send sends one request to u: a POST with body as its form, or a GET
// without a body. It returns the status and response body (valid until the
// next request).
func (w *worker) send(ctx context.Context, method, u string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if method == http.MethodPost {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if method == http.MethodPost {
		ct := "application/x-www-form-urlencoded"
		if w.t.contentType != "" {
			ct = w.t.contentType
		}
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	if w.t.auth != "" {
		req.Header.Set("Authorization", w.t.auth)
	}
	for k, v := range w.t.header {
		req.Header[k] = v
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	w.buf.Reset()
	_, err = w.buf.ReadFrom(io.LimitReader(resp.Body, maxBody))
	// Drain what the limit left so the connection can be reused.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, w.buf.Bytes(), nil
}

// fail records a failed measured request.
func (w *worker) fail(err error) {
	w.errs++
	if w.first == "" {
		w.first = err.Error()
		w.firstT = time.Now()
	}
}

// statusError describes an unexpected response.
func statusError(status int, body []byte) error {
	const max = 200
	s := strings.TrimSpace(string(body))
	if len(s) > max {
		s = s[:max] + "..."
	}
	return fmt.Errorf("HTTP %d: %s", status, s)
}

// expectStatus200 is the check of token requests whose body is not needed.
func expectStatus200(status int, body []byte) error {
	if status != http.StatusOK {
		return statusError(status, body)
	}
	return nil
}

// tokenResponse is the part of a token response loadgen reads.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// parseToken checks a token response and decodes it.
func parseToken(status int, body []byte) (tokenResponse, error) {
	var tr tokenResponse
	if status != http.StatusOK {
		return tr, statusError(status, body)
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		return tr, fmt.Errorf("token response: %w", err)
	}
	return tr, nil
}

// oauthURL returns {endpoint}/t/{tenant}/oauth2/{what}.
func (c Config) oauthURL(what string) string {
	return strings.TrimRight(c.Endpoint, "/") + "/t/" + url.PathEscape(c.Tenant) + "/oauth2/" + what
}

// setupWorker is a worker used for the one-off requests that prepare a run.
func setupWorker(client *http.Client, t *target) *worker {
	return &worker{client: client, t: t}
}
