package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Errors of this package.
var (
	ErrUnavailable = errors.New("upstream: provider unavailable")
	ErrRejected    = errors.New("upstream: token rejected")
)

// Options configure a Pool. Zero values take the defaults.
type Options struct {
	// AllowInsecureLoopback permits plain http to a loopback host.
	AllowInsecureLoopback bool
	// Timeout bounds one request to a provider (default 5 s).
	Timeout time.Duration
	// MaxDocument bounds every document read (default 256 KiB).
	MaxDocument int64
	// MaxKeys bounds the keys of a JWKS (default 100).
	MaxKeys int
	// MinTTL and MaxTTL clamp cache lifetimes (defaults 1 min, 24 h);
	// DefaultTTL applies without Cache-Control max-age (default 15 min).
	MinTTL, MaxTTL, DefaultTTL time.Duration
	// RefreshInterval is the least time between two key-set fetches of
	// one issuer on an unknown kid (default 10 s).
	RefreshInterval time.Duration
	// IntrospectionTTL bounds how long an introspection answer is reused
	// (default 60 s), never past the token's exp.
	IntrospectionTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Transport, when set, carries the requests (default a fresh
	// http.Transport).
	Transport http.RoundTripper
}

func (o *Options) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Timeout, 5*time.Second)
	def(&o.MinTTL, time.Minute)
	def(&o.MaxTTL, 24*time.Hour)
	def(&o.DefaultTTL, 15*time.Minute)
	def(&o.RefreshInterval, 10*time.Second)
	def(&o.IntrospectionTTL, time.Minute)
	if o.MaxDocument <= 0 {
		o.MaxDocument = 256 << 10
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Transport == nil {
		o.Transport = &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: o.Timeout}).DialContext,
			TLSHandshakeTimeout: o.Timeout, ResponseHeaderTimeout: o.Timeout, MaxIdleConnsPerHost: 4, IdleConnTimeout: time.Minute}
	}
}

// CheckURL reports why u may not be fetched under o: https, or http to a
// loopback host with AllowInsecureLoopback.
func (o *Options) CheckURL(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if o.AllowInsecureLoopback && loopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: %s is plain http; only https is fetched (http only for a loopback host in dev mode or with the allow-insecure-loopback setting)", ErrUnavailable, u.Redacted())
	}
	return fmt.Errorf("%w: %s: only https is fetched", ErrUnavailable, u.Redacted())
}

func loopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// guard is the RoundTripper of every provider request: it refuses URLs
// CheckURL refuses (redirects included), bounds the body it hands back,
// and remembers each answer's Cache-Control max-age.
type guard struct {
	o    *Options
	mu   sync.Mutex
	ages map[string]time.Duration
}

func (g *guard) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := g.o.CheckURL(r.URL); err != nil {
		return nil, err
	}
	resp, err := g.o.Transport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if resp.ContentLength > g.o.MaxDocument {
		resp.Body.Close()
		return nil, fmt.Errorf("%w: %s answered %d bytes, more than the %d read", ErrUnavailable, r.URL.Redacted(), resp.ContentLength, g.o.MaxDocument)
	}
	resp.Body = &limited{r: resp.Body, left: g.o.MaxDocument, url: r.URL.Redacted()}
	if age, ok := maxAge(resp.Header.Get("Cache-Control")); ok {
		g.mu.Lock()
		if len(g.ages) > 10000 {
			clear(g.ages)
		}
		g.ages[r.URL.String()] = age
		g.mu.Unlock()
	}
	return resp, nil
}

// ttl is the cache lifetime of the last answer from u, clamped.
func (g *guard) ttl(u string) time.Duration {
	g.mu.Lock()
	age, ok := g.ages[u]
	g.mu.Unlock()
	if !ok {
		age = g.o.DefaultTTL
	}
	return min(max(age, g.o.MinTTL), g.o.MaxTTL)
}

// maxAge reads max-age from Cache-Control; no-store or no-cache is 0.
func maxAge(cc string) (time.Duration, bool) {
	for _, d := range strings.Split(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "no-store" || d == "no-cache" {
			return 0, true
		}
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
			if err == nil && n >= 0 {
				return time.Duration(min(n, 1<<31)) * time.Second, true
			}
		}
	}
	return 0, false
}

// limited fails a read past its bound instead of truncating silently.
type limited struct {
	r    io.ReadCloser
	left int64
	url  string
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n > 0 {
			return 0, fmt.Errorf("%w: %s answered more than the bytes read from a provider", ErrUnavailable, l.url)
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

func (l *limited) Close() error { return l.r.Close() }

// get fetches u and returns its body, status 200 required.
func (p *Pool) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, unavailable(err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: %s answered %s", ErrUnavailable, req.URL.Redacted(), resp.Status)
	}
	return b, nil
}

func unavailable(err error) error {
	if errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
