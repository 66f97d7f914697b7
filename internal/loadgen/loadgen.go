package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
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
	// ModeBaselineDurable drives the durable floor: a bare server that
	// authenticates a client by a cached secret hash, signs one ES256 JWT
	// and group-commits one row per request before it answers.
	ModeBaselineDurable = "baseline-durable"
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
	ModeBaselineSign, ModeBaselineVerify, ModeBaselineDurable, ModeBadPassword, ModeDeviceMint, ModeStoreToken, ModeSignedDevice, ModeApstrata,
	ModePassword, ModeDotkernelToken, ModeDotkernelRefresh, ModeTokenExchange, ModeKindMint, ModeBigCommerceToken, ModeCustomerLogin, ModeBigCommerceLogin, ModeTenantAuthToken, ModeTenantAuthOIDC}

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
	return mode == ModeBaselineSign || mode == ModeBaselineVerify || mode == ModeBaselineDurable
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
	// AccountKey and ApstrataPassword are ModeApstrata's account key and
	// the device's (ClientID's) apstrata password.
	AccountKey, ApstrataPassword string
	// SubjectToken and SubjectTokenType are what ModeTokenExchange
	// exchanges (the type defaults to an ID token).
	SubjectToken, SubjectTokenType string
	// Project is the project_id of the tenantauth modes.
	Project string
	// BaselineDatabase is the durable floor's database when Run starts it
	// (see BaselineOptions.Database).
	BaselineDatabase string
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
	// AdminToken is a tenant admin's tokend token (an admin key): the
	// device-mint mode mints with it, and both store modes create their
	// stores with it.
	AdminToken string
	// APIToken is an API account's token (a client access token with the
	// creation scopes) of the BigCommerce modes; StoreHash their store.
	APIToken, StoreHash string
	// Background, when not nil, is a second load that runs alongside this
	// one with its own workers, over the same warmup and measured window
	// (its Duration, Warmup and Requests are ignored; it stops when this run
	// stops). An empty Background.Endpoint means this run's Endpoint unless
	// its mode is a baseline. Background.Background must be nil. Its result
	// is Result.Background.
	Background *Config
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
	if c.Mode == ModeDeviceMint || c.Mode == ModeStoreToken {
		return c.validateStoreToken()
	}
	if isBigCommerce(c.Mode) {
		return c.validateBigCommerce()
	}
	if c.ClientID == "" {
		return fmt.Errorf("mode %s needs a client id", c.Mode)
	}
	if c.Mode == ModeSignedDevice && c.ClientSecret == "" {
		return fmt.Errorf("mode %s needs the device id and its signing secret (--client-id, --client-secret)", c.Mode)
	}
	if c.Mode == ModeApstrata && (c.AccountKey == "" || c.ApstrataPassword == "") {
		return fmt.Errorf("mode %s needs the account key and the device's apstrata password (--account-key, --apstrata-password)", c.Mode)
	}
	if c.Mode == ModeTokenExchange && c.SubjectToken == "" {
		return fmt.Errorf("mode %s needs a subject token (--subject-token or TOKEND_BENCH_SUBJECT_TOKEN)", c.Mode)
	}
	if needsLogin(c.Mode) && (c.Username == "" || c.Password == "") {
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
