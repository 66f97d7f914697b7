package loadgen

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tokend/tokend/verify"
)

// VerifyLibAlgorithms is the algorithm allow-list of the ModeVerifyLib
// verifier: every algorithm tokend signs with.
var VerifyLibAlgorithms = []string{"ES256", "EdDSA", "RS256"}

// verifyLibSyncTimeout bounds the wait for the verifier's first page of
// the revocation feed.
const verifyLibSyncTimeout = 10 * time.Second

// verifyLibPath is the path the ModeVerifyLib server is driven on.
const verifyLibPath = "/resource"

// tokenAudience returns the first audience of the JWT tok's "aud" claim
// (a string or a list of strings), read without verifying the token.
func tokenAudience(tok string) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("the access token is not a JWT, so its audience cannot be read; give the audience explicitly")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", fmt.Errorf("the access token's payload is not base64url: %w", err)
	}
	var c struct {
		Aud json.RawMessage `json:"aud"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		return "", fmt.Errorf("the access token's payload is not a JSON object: %w", err)
	}
	var one string
	var list []string
	switch {
	case len(c.Aud) == 0 || string(c.Aud) == "null":
	case json.Unmarshal(c.Aud, &one) == nil:
		if one != "" {
			return one, nil
		}
	case json.Unmarshal(c.Aud, &list) == nil:
		for _, a := range list {
			if a != "" {
				return a, nil
			}
		}
	default:
		return "", fmt.Errorf(`the access token's "aud" claim %s is neither a string nor a list of strings`, c.Aud)
	}
	return "", errors.New(`the access token has no "aud" claim; give the audience explicitly (--audience)`)
}

// loopbackClient returns the HTTP client of the ModeVerifyLib verifier: no
// proxy, no redirects, and a dialer that refuses any address that is not
// loopback, so that discovery naming another host cannot send traffic off
// the machine.
func loopbackClient() *http.Client {
	d := &net.Dialer{
		Timeout:   5 * time.Second,
		KeepAlive: 30 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				return fmt.Errorf("loadgen: refusing to connect to non-loopback address %s", address)
			}
			return nil
		},
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil,
			DialContext:           d.DialContext,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   5 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		},
		// The revocation feed long-polls for up to 10 s.
		Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// startVerifyLib sets up ModeVerifyLib for the access token tok: a
// verify.Verifier for c's tenant, following the revocation feed with c's
// client, and a bare net/http server on 127.0.0.1 whose only handler is
// the verifier's Middleware around a handler that answers 200. The
// returned target's stop closes both.
func startVerifyLib(ctx context.Context, c Config, tok string) (*target, error) {
	aud := c.Audience
	if aud == "" {
		var err error
		if aud, err = tokenAudience(tok); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
	}
	issuer := strings.TrimRight(c.Endpoint, "/") + "/t/" + url.PathEscape(c.Tenant)
	vc := loopbackClient()
	v, err := verify.New(ctx, verify.Options{
		Issuer:       issuer,
		Audience:     aud,
		Algorithms:   VerifyLibAlgorithms,
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		HTTPClient:   vc,
	})
	if err != nil {
		vc.CloseIdleConnections()
		return nil, fmt.Errorf("setup: verifier: %w", err)
	}
	closeVerifier := func() {
		v.Close()
		vc.CloseIdleConnections()
	}
	// Start from the revocations known now, like a resource server that
	// waits for its verifier before taking traffic.
	timer := time.NewTimer(verifyLibSyncTimeout)
	defer timer.Stop()
	select {
	case <-v.Synced():
	case <-ctx.Done():
		closeVerifier()
		return nil, fmt.Errorf("setup: verifier: %w", ctx.Err())
	case <-timer.C:
		closeVerifier()
		return nil, fmt.Errorf("setup: verifier: revocation feed of %s not read within %s", issuer, verifyLibSyncTimeout)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		closeVerifier()
		return nil, fmt.Errorf("setup: verify-lib listen: %w", err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	})
	srv := &http.Server{
		Handler:           v.Middleware(ok),
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
	stop := func() {
		once.Do(func() {
			_ = srv.Close()
			<-done
			closeVerifier()
		})
	}
	return &target{method: http.MethodGet, url: "http://" + ln.Addr().String() + verifyLibPath,
		auth: "Bearer " + tok, check: expectStatus200, stop: stop}, nil
}

// prepareVerifyLib is ModeVerifyLib: one token presented to an in-process
// resource server built on the verify package.
func prepareVerifyLib(ctx context.Context, c Config, client *http.Client, auth string) (*target, error) {
	tok, err := issueToken(ctx, c, client, auth)
	if err != nil {
		return nil, err
	}
	return startVerifyLib(ctx, c, tok)
}
