package loadgen

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Baseline kinds accepted by StartBaseline.
const (
	// BaselineSign is the server that signs one ES256 JWT per request.
	BaselineSign = "sign"
	// BaselineVerify is the server that verifies one ES256 JWT per request.
	BaselineVerify = "verify"
)

// BaselineKinds lists the baseline kinds.
var BaselineKinds = []string{BaselineSign, BaselineVerify, BaselineDurable}

// BaselineOptions configure a baseline server.
type BaselineOptions struct {
	// Database is where the durable floor appends its rows: "" (a SQLite
	// file in a temporary directory, removed when the server stops),
	// "sqlite:PATH" or a postgres:// URL. Other kinds ignore it.
	Database string
}

// Paths served by a baseline server, relative to the URL StartBaseline
// returns.
const (
	// baselineSignPath answers a POST with {"access_token": "<fresh JWT>"}.
	baselineSignPath = "/sign"
	// baselineVerifyPath answers a POST carrying token=<JWT> with
	// {"active":true} when the JWT verifies and {"active":false} otherwise.
	baselineVerifyPath = "/verify"
	// baselineTokenPath answers a GET with the verify server's pre-signed
	// JWT as {"access_token": "..."}; it is only used once, to set up a run.
	baselineTokenPath = "/token"
)

// baselineSubject etc. are the fixed claims of baseline tokens.
const (
	baselineSubject  = "baseline-client"
	baselineAudience = "baseline"
	baselineLifetime = time.Hour
)

// baseline is the state of one baseline server.
type baseline struct {
	key    *ecdsa.PrivateKey
	issuer string
	// token is the pre-signed JWT the verify server hands out and verifies.
	token string
}

// StartBaseline starts a bare net/http server on 127.0.0.1 on a free port
// and returns its base URL and a function that stops it. kind is
// BaselineSign or BaselineVerify (the mode names "baseline-sign" and
// "baseline-verify" are accepted too).
//
// The sign server's only work per request is to parse the form body, sign
// one ES256 JWT with golang-jwt (claims iss, sub, aud, exp, iat, jti; header
// typ at+jwt) and write it as {"access_token": "..."}. The verify server's
// only work per request is to parse the form body and verify its token field
// with jwt.Parse restricted to ES256, answering {"active":true} or
// {"active":false}. Together they are the cost floor of issuing and
// introspecting a self-contained token over HTTP on this machine.
func StartBaseline(kind string) (url string, stop func(), err error) {
	return StartBaselineWith(kind, BaselineOptions{})
}

// StartBaselineWith is StartBaseline with options; kind may also be
// BaselineDurable, the durable floor (see durable.go).
func StartBaselineWith(kind string, o BaselineOptions) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("loadgen: baseline listen: %w", err)
	}
	url, stop, err = startBaselineOn(ln, kind, o)
	if err != nil {
		_ = ln.Close()
	}
	return url, stop, err
}

// startBaselineOn serves a baseline of kind on ln (see StartBaseline).
func startBaselineOn(ln net.Listener, kind string, o BaselineOptions) (url string, stop func(), err error) {
	kind = strings.TrimPrefix(kind, "baseline-")
	if !slices.Contains(BaselineKinds, kind) {
		return "", nil, fmt.Errorf("loadgen: unknown baseline kind %q (want one of %s)", kind, strings.Join(BaselineKinds, ", "))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, fmt.Errorf("loadgen: baseline key: %w", err)
	}
	base := "http://" + ln.Addr().String()
	b := &baseline{key: key, issuer: base}
	mux := http.NewServeMux()
	closeDB := func() {}
	switch kind {
	case BaselineDurable:
		db, err := openDurable(context.Background(), o.Database)
		if err != nil {
			return "", nil, err
		}
		c := newCommitter(db)
		closeDB = func() { c.close(); db.close() }
		d := &durable{baseline: b, hash: sha256.Sum256([]byte(BaselineClientSecret)), c: c}
		mux.HandleFunc("POST "+baselineDurablePath, d.serveDurable)
	case BaselineSign:
		mux.HandleFunc("POST "+baselineSignPath, b.serveSign)
	case BaselineVerify:
		if b.token, err = b.sign(); err != nil {
			return "", nil, err
		}
		mux.HandleFunc("POST "+baselineVerifyPath, b.serveVerify)
		mux.HandleFunc("GET "+baselineTokenPath, b.serveToken)
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// Serve returns http.ErrServerClosed after stop; any other error
		// shows up as failed requests.
		_ = srv.Serve(ln)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			_ = srv.Close()
			<-done
			closeDB()
		})
	}
	return base, stop, nil
}

// sign returns one freshly signed ES256 access token.
func (b *baseline) sign() (string, error) {
	tok, _, _, err := b.signID()
	return tok, err
}

// signID returns one freshly signed ES256 access token, its jti and its
// issue time.
func (b *baseline) signID() (tok, id string, now time.Time, err error) {
	var jti [16]byte
	if _, err := rand.Read(jti[:]); err != nil {
		return "", "", now, err
	}
	now = time.Now()
	id = base64.RawURLEncoding.EncodeToString(jti[:])
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer:    b.issuer,
		Subject:   baselineSubject,
		Audience:  jwt.ClaimStrings{baselineAudience},
		ExpiresAt: jwt.NewNumericDate(now.Add(baselineLifetime)),
		IssuedAt:  jwt.NewNumericDate(now),
		ID:        id,
	})
	t.Header["typ"] = "at+jwt"
	s, err := t.SignedString(b.key)
	if err != nil {
		return "", "", now, fmt.Errorf("loadgen: baseline sign: %w", err)
	}
	return s, id, now, nil
}

// writeJSON writes body as a 200 JSON response that must not be cached.
func writeJSON(w http.ResponseWriter, body string) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(body))
}

// serveSign parses the form and answers one freshly signed token. A JWT is
// base64url and dots only, so it needs no JSON escaping.
func (b *baseline) serveSign(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	tok, err := b.sign()
	if err != nil {
		http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		return
	}
	writeJSON(w, `{"access_token":"`+tok+`","token_type":"Bearer"}`)
}

// serveToken answers the verify server's pre-signed token (setup only).
func (b *baseline) serveToken(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, `{"access_token":"`+b.token+`","token_type":"Bearer"}`)
}

// serveVerify parses the form and verifies its token field.
func (b *baseline) serveVerify(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	_, err := jwt.Parse(r.PostForm.Get("token"), func(*jwt.Token) (any, error) {
		return &b.key.PublicKey, nil
	}, jwt.WithValidMethods([]string{"ES256"}))
	if err != nil {
		writeJSON(w, `{"active":false}`)
		return
	}
	writeJSON(w, `{"active":true}`)
}

// prepareBaselineSign is ModeBaselineSign: the baseline server signs per request.
func prepareBaselineSign(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	return &target{url: strings.TrimRight(c.Endpoint, "/") + baselineSignPath, auth: auth,
		body: c.issueBody(), check: expectStatus200}, nil
}

// prepareBaselineVerify is ModeBaselineVerify: one token from the baseline
// server, verified by it per request.
func prepareBaselineVerify(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
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
