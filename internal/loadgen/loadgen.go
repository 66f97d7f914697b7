package loadgen

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Modes of Run.
const (
	// ModeIssue posts client_credentials token requests.
	ModeIssue = "issue"
	// ModeIntrospect introspects one valid access token over and over.
	ModeIntrospect = "introspect"
	// ModeIntrospectRevoked introspects one revoked access token over and over.
	ModeIntrospectRevoked = "introspect-revoked"
	// ModeRefresh rotates refresh tokens, one chain per worker.
	ModeRefresh = "refresh"
	// ModeBaselineSign drives a bare server that signs one ES256 JWT per request.
	ModeBaselineSign = "baseline-sign"
	// ModeBaselineVerify drives a bare server that verifies one ES256 JWT per request.
	ModeBaselineVerify = "baseline-verify"
	// ModeBadPassword floods the password grant with wrong passwords for
	// unique unknown usernames, from rotating loopback source addresses, so
	// that the server spends its password-hashing work on every request it
	// does not throttle. A 400 invalid_grant and a 429 both count as a
	// success (Result.Rejected400, Result.Throttled429).
	ModeBadPassword = "bad-password"
	// ModeCheck gets one access token and then sends GET
	// {Endpoint}/t/{Tenant}/check with it as a bearer token over and over:
	// tokend's gateway check (nginx auth_request, forward auth).
	ModeCheck = "check"
	// ModeVerifyLib gets one access token and then drives an in-process bare
	// net/http server on 127.0.0.1 whose handler is the public verify
	// package's Middleware, configured for the tenant (JWKS from discovery,
	// cached; revocation feed followed), with the token as a bearer token:
	// a resource server using the library, with no call to tokend per
	// request.
	ModeVerifyLib = "verify-lib"
)

// Modes lists every mode Run accepts, in the order the documentation gives them.
var Modes = []string{ModeIssue, ModeIntrospect, ModeIntrospectRevoked, ModeCheck, ModeVerifyLib, ModeRefresh,
	ModeBaselineSign, ModeBaselineVerify, ModeBadPassword}

// Limits on a run.
const (
	// MaxConcurrency is the largest Config.Concurrency.
	MaxConcurrency = 4096
	// MaxDuration is the longest Config.Duration and Config.Warmup.
	MaxDuration = 5 * time.Minute
	// MaxSamples caps the latencies kept for percentiles across all workers;
	// requests beyond it are still counted, only not sampled.
	MaxSamples = 10_000_000
	// RequestTimeout bounds each single request, so a run ends at most this
	// long after its duration even against a server that stops answering.
	RequestTimeout = 10 * time.Second
	// maxBody is the most of a response body that is read.
	maxBody = 1 << 20
	// RotateEvery is how many requests (warmup included) a ModeBadPassword
	// worker sends from one source address before it moves to the next one,
	// staying below tokend's 20 free failures per remote address.
	RotateEvery = 15
	// firstSourceHost and lastSourceHost bound X of the source addresses
	// 127.0.0.X that ModeBadPassword workers cycle over.
	firstSourceHost, lastSourceHost = 2, 254
)

// IsBaseline reports whether mode drives an in-process baseline server
// rather than tokend.
func IsBaseline(mode string) bool {
	return mode == ModeBaselineSign || mode == ModeBaselineVerify
}

// ValidMode reports whether mode is one of Modes.
func ValidMode(mode string) bool { return slices.Contains(Modes, mode) }

// Config is one load run.
type Config struct {
	// Mode is one of Modes.
	Mode string
	// Endpoint is tokend's base URL, e.g. http://127.0.0.1:8080. Its host
	// must be a loopback address. For the baseline modes an empty Endpoint
	// makes Run start (and stop) its own baseline server in this process; a
	// non-empty one must be the URL StartBaseline or StartBaselineProcess
	// returned for that kind.
	Endpoint string
	// Tenant is the tenant whose OAuth endpoints are driven
	// ({Endpoint}/t/{Tenant}/oauth2/...).
	Tenant string
	// ClientID and ClientSecret authenticate every request with HTTP Basic
	// auth (each part form-urlencoded first, RFC 6749 §2.3.1).
	ClientID, ClientSecret string
	// Username and Password are the resource owner of the password grant
	// that starts each refresh chain (ModeRefresh only).
	Username, Password string
	// Scope, when not empty, is sent as scope= with token requests.
	Scope string
	// Audience is the audience the ModeVerifyLib verifier accepts; empty
	// means the token's own "aud" claim (its first value when a list).
	Audience string
	// Concurrency is the number of workers, each with at most one request in
	// flight; 1..MaxConcurrency.
	Concurrency int
	// Duration is how long requests are measured; up to MaxDuration.
	Duration time.Duration
	// Requests, when above 0, ends the run after that many measured requests.
	Requests int64
	// Warmup is how long workers send requests that are not measured before
	// Duration starts; up to MaxDuration.
	Warmup time.Duration
	// Background, when not nil, is a second load that runs alongside this
	// one with its own workers, over the same warmup and measured window
	// (its Duration, Warmup and Requests are ignored; it stops when this run
	// stops). An empty Background.Endpoint means this run's Endpoint unless
	// its mode is a baseline. Background.Background must be nil. Its result
	// is Result.Background.
	Background *Config
}

// Result is what a run measured. Latency percentiles are exact (nearest
// rank over every sampled successful request); a failed request counts in
// Requests and Errors but not in the latencies.
type Result struct {
	// Mode is the mode that ran.
	Mode string
	// Concurrency is the number of workers.
	Concurrency int
	// Requests is the number of measured requests, successful or not.
	Requests int64
	// Errors is how many of Requests failed (transport error, unexpected
	// status or body).
	Errors int64
	// Duration is the measured wall time, from the end of warmup until the
	// last worker finished.
	Duration time.Duration
	// RPS is Requests / Duration.
	RPS float64
	// P50, P99, P999 and Max are latencies of successful requests.
	P50, P99, P999, Max time.Duration
	// Samples is the number of latencies the percentiles were computed from.
	Samples int64
	// FirstError describes the first failed request, "" when none failed.
	FirstError string
	// Rejected400 and Throttled429 split the successful ModeBadPassword
	// requests: answered 400 invalid_grant (the password was checked and
	// wrong) or 429 (the login throttle refused without checking).
	Rejected400, Throttled429 int64
	// SourceAddrs is how many distinct loopback source addresses
	// ModeBadPassword workers sent from (0 for the default source).
	SourceAddrs int
	// Note, when not empty, is something the reader of the result must know,
	// such as source-address rotation being unavailable.
	Note string
	// Background is the result of Config.Background, nil without one.
	Background *Result
}

// CheckLoopback returns an error unless endpoint is an http(s) URL whose
// host is localhost or a loopback IP (127.0.0.0/8, ::1). loadgen only loads
// the machine it runs on.
func CheckLoopback(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("endpoint %q: %w", endpoint, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("endpoint %q: want an http:// or https:// URL", endpoint)
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("endpoint %q: host %q is not a loopback address; bench only loads this machine (use 127.0.0.1, ::1 or localhost)", endpoint, host)
}

// validate checks the fields of c that do not depend on the network.
func (c Config) validate() error {
	if !ValidMode(c.Mode) {
		return fmt.Errorf("unknown mode %q (want one of %s)", c.Mode, strings.Join(Modes, ", "))
	}
	if c.Concurrency < 1 || c.Concurrency > MaxConcurrency {
		return fmt.Errorf("concurrency %d out of range 1..%d", c.Concurrency, MaxConcurrency)
	}
	if c.Duration <= 0 || c.Duration > MaxDuration {
		return fmt.Errorf("duration %s out of range (0, %s]", c.Duration, MaxDuration)
	}
	if c.Warmup < 0 || c.Warmup > MaxDuration {
		return fmt.Errorf("warmup %s out of range [0, %s]", c.Warmup, MaxDuration)
	}
	if c.Requests < 0 {
		return fmt.Errorf("requests %d is negative", c.Requests)
	}
	if IsBaseline(c.Mode) {
		return nil
	}
	if c.Tenant == "" {
		return fmt.Errorf("mode %s needs a tenant", c.Mode)
	}
	if c.ClientID == "" {
		return fmt.Errorf("mode %s needs a client id", c.Mode)
	}
	if c.Mode == ModeRefresh && (c.Username == "" || c.Password == "") {
		return fmt.Errorf("mode %s needs a username and password", c.Mode)
	}
	return nil
}

// background returns the background configuration of c, completed from c,
// or nil without one.
func (c Config) background() (*Config, error) {
	if c.Background == nil {
		return nil, nil
	}
	bg := *c.Background
	if bg.Background != nil {
		return nil, errors.New("background: a background load cannot have its own background")
	}
	bg.Duration, bg.Warmup, bg.Requests = c.Duration, c.Warmup, 0
	if bg.Endpoint == "" && !IsBaseline(bg.Mode) {
		bg.Endpoint = c.Endpoint
	}
	if err := bg.validate(); err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	return &bg, nil
}

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
	body   []byte // fixed form body
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

// sourcePool hands out loopback source addresses 127.0.0.X, X cycling over
// firstSourceHost..lastSourceHost, shared by the workers of one run so that
// consecutive rotations spread over all of them.
type sourcePool struct {
	next atomic.Int64
}

// take returns the next source address.
func (p *sourcePool) take() *net.TCPAddr {
	n := p.next.Add(1) - 1
	x := firstSourceHost + int(n%(lastSourceHost-firstSourceHost+1))
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(x))}
}

// used returns how many distinct addresses were handed out.
func (p *sourcePool) used() int {
	return int(min(p.next.Load(), lastSourceHost-firstSourceHost+1))
}

// worker is one sequential request loop and what it recorded.
type worker struct {
	id     int
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

// rotate moves the worker to a client dialling from the next source
// address, closing the idle connections of its previous one.
func (w *worker) rotate() {
	old, own := w.client, w.own
	w.client, w.own = newClientFrom(1, w.t.sources.take()), true
	if own {
		old.CloseIdleConnections()
	}
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
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if w.t.auth != "" {
		req.Header.Set("Authorization", w.t.auth)
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

// expectActive returns the check of an introspection response: 200 and
// "active" equal to want.
func expectActive(want bool) checkFunc {
	return func(status int, body []byte) error {
		if status != http.StatusOK {
			return statusError(status, body)
		}
		var r struct {
			Active *bool `json:"active"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("introspection response: %w", err)
		}
		if r.Active == nil {
			return errors.New(`introspection response has no "active"`)
		}
		if *r.Active != want {
			return fmt.Errorf(`introspection response has "active": %t, want %t`, *r.Active, want)
		}
		return nil
	}
}

// expectLoginRefused is the check of ModeBadPassword: 400 with error
// "invalid_grant", or 429.
func expectLoginRefused(status int, body []byte) error {
	switch status {
	case http.StatusTooManyRequests:
		return nil
	case http.StatusBadRequest:
		var r struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(body, &r); err != nil {
			return fmt.Errorf("HTTP 400 response: %w", err)
		}
		if r.Error != "invalid_grant" {
			return statusError(status, body)
		}
		return nil
	}
	return statusError(status, body)
}

// probeSource reports whether a connection to endpoint can be dialled from
// the first rotating source address.
func probeSource(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, firstSourceHost)}}
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return err
	}
	return conn.Close()
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

// issueBody is the form of a client_credentials token request.
func (c Config) issueBody() []byte {
	v := url.Values{"grant_type": {"client_credentials"}}
	if c.Scope != "" {
		v.Set("scope", c.Scope)
	}
	return []byte(v.Encode())
}

// tokenBody is the form token=<tok> of introspection and revocation.
func tokenBody(tok string) []byte {
	return []byte(url.Values{"token": {tok}}.Encode())
}

// setupWorker is a worker used for the one-off requests that prepare a run.
func setupWorker(client *http.Client, t *target) *worker {
	return &worker{client: client, t: t}
}

// prepare returns the target of c.Mode, doing the mode's one-off setup
// requests (getting and perhaps revoking a token).
func prepare(ctx context.Context, c Config, client *http.Client) (*target, error) {
	auth := ""
	if c.ClientID != "" {
		auth = basicAuth(c.ClientID, c.ClientSecret)
	}
	issue := func() (string, error) {
		w := setupWorker(client, &target{auth: auth})
		st, body, err := w.post(ctx, c.oauthURL("token"), c.issueBody())
		if err != nil {
			return "", fmt.Errorf("setup: token request: %w", err)
		}
		tr, err := parseToken(st, body)
		if err != nil {
			return "", fmt.Errorf("setup: token request: %w", err)
		}
		if tr.AccessToken == "" {
			return "", errors.New("setup: token response has no access_token")
		}
		return tr.AccessToken, nil
	}
	switch c.Mode {
	case ModeIssue:
		return &target{url: c.oauthURL("token"), auth: auth, body: c.issueBody(), check: expectStatus200}, nil
	case ModeIntrospect, ModeIntrospectRevoked:
		tok, err := issue()
		if err != nil {
			return nil, err
		}
		if c.Mode == ModeIntrospectRevoked {
			w := setupWorker(client, &target{auth: auth})
			st, body, err := w.post(ctx, c.oauthURL("revoke"), tokenBody(tok))
			if err != nil {
				return nil, fmt.Errorf("setup: revoke request: %w", err)
			}
			if st != http.StatusOK {
				return nil, fmt.Errorf("setup: revoke request: %w", statusError(st, body))
			}
		}
		return &target{url: c.oauthURL("introspect"), auth: auth, body: tokenBody(tok),
			check: expectActive(c.Mode == ModeIntrospect)}, nil
	case ModeCheck:
		tok, err := issue()
		if err != nil {
			return nil, err
		}
		return &target{method: http.MethodGet, url: strings.TrimRight(c.Endpoint, "/") + "/t/" + url.PathEscape(c.Tenant) + "/check",
			auth: "Bearer " + tok, check: expectStatus200}, nil
	case ModeVerifyLib:
		tok, err := issue()
		if err != nil {
			return nil, err
		}
		return startVerifyLib(ctx, c, tok)
	case ModeRefresh:
		login := url.Values{"grant_type": {"password"}, "username": {c.Username}, "password": {c.Password}}
		if c.Scope != "" {
			login.Set("scope", c.Scope)
		}
		loginBody := []byte(login.Encode())
		t := &target{url: c.oauthURL("token"), auth: auth}
		t.next = func(w *worker) (func() []byte, checkFunc, error) {
			st, body, err := w.post(ctx, t.url, loginBody)
			if err != nil {
				return nil, nil, fmt.Errorf("setup: password grant: %w", err)
			}
			tr, err := parseToken(st, body)
			if err != nil {
				return nil, nil, fmt.Errorf("setup: password grant: %w", err)
			}
			if tr.RefreshToken == "" {
				return nil, nil, errors.New("setup: password grant response has no refresh_token")
			}
			current := tr.RefreshToken
			const prefix = "grant_type=refresh_token&refresh_token="
			var b []byte
			build := func() []byte {
				b = append(append(b[:0], prefix...), url.QueryEscape(current)...)
				return b
			}
			check := func(status int, body []byte) error {
				tr, err := parseToken(status, body)
				if err != nil {
					return err
				}
				if tr.RefreshToken == "" {
					return errors.New("refresh response has no refresh_token")
				}
				current = tr.RefreshToken
				return nil
			}
			return build, check, nil
		}
		return t, nil
	case ModeBadPassword:
		t := &target{url: c.oauthURL("token"), auth: auth, check: expectLoginRefused}
		if err := probeSource(ctx, c.Endpoint); err != nil {
			t.note = fmt.Sprintf("cannot send from 127.0.0.%d (%v): every request comes from the default source address, so the server's per-address login throttle answers most of them 429", firstSourceHost, err)
		} else {
			t.sources = &sourcePool{}
		}
		// A per-run nonce keeps usernames unique across runs too.
		nonce := strconv.FormatUint(rand.Uint64()>>40, 36)
		t.next = func(w *worker) (func() []byte, checkFunc, error) {
			prefix := "grant_type=password&username=" + url.QueryEscape("flood-"+nonce+"-"+strconv.Itoa(w.id)+"-")
			n := 0
			var b []byte
			build := func() []byte {
				b = append(b[:0], prefix...)
				b = strconv.AppendInt(b, int64(n), 10)
				b = append(b, "%40example.invalid&password=wrong-"...)
				b = strconv.AppendUint(b, rand.Uint64(), 36)
				n++
				return b
			}
			return build, expectLoginRefused, nil
		}
		return t, nil
	case ModeBaselineSign:
		return &target{url: strings.TrimRight(c.Endpoint, "/") + baselineSignPath, auth: auth,
			body: c.issueBody(), check: expectStatus200}, nil
	case ModeBaselineVerify:
		base := strings.TrimRight(c.Endpoint, "/")
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+baselineTokenPath, nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("setup: baseline token: %w", err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		if err != nil {
			return nil, fmt.Errorf("setup: baseline token: %w", err)
		}
		tr, err := parseToken(resp.StatusCode, body)
		if err != nil || tr.AccessToken == "" {
			return nil, fmt.Errorf("setup: baseline token: %v", err)
		}
		return &target{url: base + baselineVerifyPath, auth: auth, body: tokenBody(tr.AccessToken),
			check: expectActive(true)}, nil
	}
	return nil, fmt.Errorf("unknown mode %q", c.Mode)
}

// Run drives c.Endpoint in c.Mode at c.Concurrency: after the mode's setup
// requests, every worker sends requests back to back for c.Warmup (not
// measured) and then for c.Duration (measured), or until c.Requests measured
// requests were started. A request counts when it started in the measured
// window. With c.Background, a second load runs alongside over the same
// window and its result is Result.Background. Run returns an error when the
// configuration is invalid or setup fails; failed measured requests are
// counted in Result.Errors instead. When ctx ends, Run stops early and
// returns what it measured so far.
func Run(ctx context.Context, c Config) (Result, error) {
	if err := c.validate(); err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	bgc, err := c.background()
	if err != nil {
		return Result{}, fmt.Errorf("loadgen: %w", err)
	}
	fg, err := setupRun(ctx, c)
	if fg != nil {
		defer fg.close()
	}
	if err != nil {
		return Result{}, err
	}
	var bg *runner
	if bgc != nil {
		bg, err = setupRun(ctx, *bgc)
		if bg != nil {
			defer bg.close()
		}
		if err != nil {
			return Result{}, fmt.Errorf("loadgen: background: %s", strings.TrimPrefix(err.Error(), "loadgen: "))
		}
	}

	start := time.Now()
	measureFrom := start.Add(c.Warmup)
	deadline := measureFrom.Add(c.Duration)

	// The background stops with the measured run: at the deadline, or as
	// soon as the measured run ended early (request cap, ctx).
	bgCtx, bgCancel := context.WithCancel(ctx)
	defer bgCancel()
	var bgDone chan struct{}
	if bg != nil {
		bgDone = make(chan struct{})
		go func() {
			defer close(bgDone)
			bg.run(bgCtx, measureFrom, deadline)
		}()
	}
	res := fg.run(ctx, measureFrom, deadline)
	if bg != nil {
		if time.Now().Before(deadline) {
			bgCancel()
		}
		<-bgDone
		b := bg.res
		res.Background = &b
	}
	return res, nil
}

// runner is one prepared load: its target and workers.
type runner struct {
	c       Config
	client  *http.Client
	t       *target
	workers []*worker
	builds  []func() []byte
	checks  []checkFunc
	stops   []func()
	res     Result
}

// close releases what setupRun acquired.
func (r *runner) close() {
	if r.client != nil {
		r.client.CloseIdleConnections()
	}
	for _, w := range r.workers {
		if w.own {
			w.client.CloseIdleConnections()
		}
	}
	for i := len(r.stops) - 1; i >= 0; i-- {
		r.stops[i]()
	}
}

// setupRun does the setup of c (which must be valid): it starts a baseline
// server if c needs one, does the mode's setup requests and creates the
// workers. The returned runner, even with an error, must be closed.
func setupRun(ctx context.Context, c Config) (*runner, error) {
	r := &runner{c: c}
	if IsBaseline(c.Mode) && c.Endpoint == "" {
		base, stop, err := StartBaseline(c.Mode)
		if err != nil {
			return r, err
		}
		r.stops = append(r.stops, stop)
		c.Endpoint = base
		r.c.Endpoint = base
	}
	if err := CheckLoopback(c.Endpoint); err != nil {
		return r, fmt.Errorf("loadgen: %w", err)
	}
	r.client = newClient(c.Concurrency)

	t, err := prepare(ctx, c, r.client)
	if err != nil {
		return r, fmt.Errorf("loadgen: %s: %w", c.Mode, err)
	}
	r.t = t
	if t.stop != nil {
		r.stops = append(r.stops, t.stop)
	}

	// Size sample slices: at most MaxSamples in total, and no more than the
	// request cap needs; grow by append beyond a modest start.
	perWorker := MaxSamples / c.Concurrency
	initial := min(perWorker, 1<<14)
	if c.Requests > 0 {
		initial = int(min(int64(initial), c.Requests/int64(c.Concurrency)+1))
	}
	r.workers = make([]*worker, c.Concurrency)
	r.builds = make([]func() []byte, c.Concurrency)
	r.checks = make([]checkFunc, c.Concurrency)
	for i := range r.workers {
		r.workers[i] = &worker{id: i, client: r.client, t: t, lat: make([]time.Duration, 0, initial), maxLat: perWorker}
	}

	// Per-worker setup (the refresh mode's password grants) runs in
	// parallel, before the clock starts.
	if t.next != nil {
		var wg sync.WaitGroup
		errs := make([]error, len(r.workers))
		for i, w := range r.workers {
			wg.Go(func() { r.builds[i], r.checks[i], errs[i] = t.next(w) })
		}
		wg.Wait()
		// Report the first error only: with many workers they are usually
		// all the same.
		for _, e := range errs {
			if e != nil {
				return r, fmt.Errorf("loadgen: %s: %w", c.Mode, e)
			}
		}
	}
	return r, nil
}

// run drives the workers over the window that ends at deadline, measuring
// from measureFrom, stores the result in r.res and returns it. ctx ending
// stops the run.
func (r *runner) run(ctx context.Context, measureFrom, deadline time.Time) Result {
	c := r.c
	// Hard stop: the deadline plus one request timeout.
	runCtx, cancel := context.WithDeadline(ctx, deadline.Add(RequestTimeout))
	defer cancel()

	var started atomic.Int64 // measured requests started, for the cap
	var wg sync.WaitGroup
	for i, w := range r.workers {
		build, check := r.builds[i], r.checks[i]
		if check == nil {
			check = r.t.check
		}
		wg.Go(func() { w.loop(runCtx, ctx, build, check, measureFrom, deadline, c.Requests, &started) })
	}
	wg.Wait()
	end := time.Now()

	res := Result{Mode: c.Mode, Concurrency: c.Concurrency, Note: r.t.note}
	if r.t.sources != nil {
		res.SourceAddrs = r.t.sources.used()
	}
	if end.After(measureFrom) {
		res.Duration = end.Sub(measureFrom)
	}
	n := 0
	for _, w := range r.workers {
		n += len(w.lat)
	}
	all := make([]time.Duration, 0, n)
	var firstT time.Time
	for _, w := range r.workers {
		res.Requests += w.reqs
		res.Errors += w.errs
		res.Rejected400 += w.n400
		res.Throttled429 += w.n429
		all = append(all, w.lat...)
		if w.first != "" && (res.FirstError == "" || w.firstT.Before(firstT)) {
			res.FirstError, firstT = w.first, w.firstT
		}
		w.lat = nil
	}
	slices.Sort(all)
	res.Samples = int64(len(all))
	res.P50 = Percentile(all, 50)
	res.P99 = Percentile(all, 99)
	res.P999 = Percentile(all, 99.9)
	if len(all) > 0 {
		res.Max = all[len(all)-1]
	}
	if res.Duration > 0 {
		res.RPS = float64(res.Requests) / res.Duration.Seconds()
	}
	r.res = res
	return res
}

// loop sends requests until deadline (or the request cap, or ctx ending)
// and records the measured ones. runCtx bounds each request; parent is the
// caller's context, whose end stops the loop without counting the request
// it interrupted.
func (w *worker) loop(runCtx, parent context.Context, build func() []byte, check checkFunc,
	measureFrom, deadline time.Time, limit int64, started *atomic.Int64) {
	for {
		if runCtx.Err() != nil {
			return
		}
		t0 := time.Now()
		if !t0.Before(deadline) {
			return
		}
		measured := !t0.Before(measureFrom)
		if measured && limit > 0 && started.Add(1) > limit {
			return
		}
		if w.t.sources != nil && w.sent%RotateEvery == 0 {
			w.rotate()
			t0 = time.Now()
		}
		w.sent++
		body := w.t.body
		if build != nil {
			body = build()
		}
		method := w.t.method
		if method == "" {
			method = http.MethodPost
		}
		st, resp, err := w.send(runCtx, method, w.t.url, body)
		lat := time.Since(t0)
		if err == nil {
			err = check(st, resp)
		}
		if parent.Err() != nil {
			return // interrupted by the caller: not a server failure
		}
		if !measured {
			continue
		}
		w.reqs++
		if err != nil {
			w.fail(err)
			continue
		}
		switch st {
		case http.StatusBadRequest:
			w.n400++
		case http.StatusTooManyRequests:
			w.n429++
		}
		if len(w.lat) < w.maxLat {
			w.lat = append(w.lat, lat)
		}
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p percent of
// the samples are at or below it. It returns 0 for no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The small epsilon keeps e.g. 99.9% of 1000 at rank 999 despite
	// floating point rounding.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// String formats r as one line, for logs.
func (r Result) String() string {
	return r.Mode + ": " + strconv.FormatInt(r.Requests, 10) + " requests, " +
		strconv.FormatInt(r.Errors, 10) + " errors, " + strconv.FormatFloat(r.RPS, 'f', 1, 64) + " req/s, p50 " +
		r.P50.String() + ", p99 " + r.P99.String() + ", p99.9 " + r.P999.String() + ", max " + r.Max.String()
}
