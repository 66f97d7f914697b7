package verify_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/verify"
)

func TestCheckUse(t *testing.T) {
	t.Parallel()
	store := &claims.Claims{Kind: claims.KindStorefront, Origins: []string{"https://shop.example.com", "http://localhost:3000"}}
	private := &claims.Claims{Kind: claims.KindPrivate}
	serverSide := &claims.Claims{Kind: claims.KindStorefront, Origins: []string{"https://shop.example.com"}, ServerSide: true}
	for _, tc := range []struct {
		name    string
		c       *claims.Claims
		headers map[string]string
		status  int // 0: allowed
	}{
		{"access token, browser", &claims.Claims{Kind: claims.KindAccess}, map[string]string{"Origin": "https://x.example"}, 0},
		{"refresh token", &claims.Claims{Kind: claims.KindRefresh}, nil, 401},
		{"storefront, allowed origin", store, map[string]string{"Origin": "https://shop.example.com"}, 0},
		{"storefront, default port spelled out", store, map[string]string{"Origin": "https://SHOP.example.com:443"}, 0},
		{"storefront, other port", store, map[string]string{"Origin": "https://shop.example.com:8443"}, 403},
		{"storefront, other scheme", store, map[string]string{"Origin": "http://shop.example.com"}, 403},
		{"storefront, localhost with port", store, map[string]string{"Origin": "http://localhost:3000"}, 0},
		{"storefront, no origin", store, nil, 403},
		{"server-side storefront, no origin", serverSide, map[string]string{"User-Agent": "backend"}, 0},
		{"server-side storefront, browser without origin", serverSide, map[string]string{"Sec-Fetch-Site": "same-origin"}, 403},
		{"server-side storefront, other origin", serverSide, map[string]string{"Origin": "https://evil.example.com"}, 403},
		{"storefront, malformed origin", store, map[string]string{"Origin": "shop.example.com"}, 403},
		{"private, server to server", private, map[string]string{"User-Agent": "curl"}, 0},
		{"private, with Origin", private, map[string]string{"Origin": "https://x.example"}, 403},
		{"private, with Sec-Fetch-Mode alone (Node's fetch)", private, map[string]string{"Sec-Fetch-Mode": "cors"}, 0},
		{"private, with Fetch Metadata", private, map[string]string{"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "cross-site"}, 403},
		{"private, with Sec-Fetch-Site", private, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"private, with Cookie", private, map[string]string{"Cookie": "a=b"}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.headers {
				h.Set(k, v)
			}
			err := verify.CheckUse(tc.c, h)
			var e *verify.Error
			switch {
			case tc.status == 0 && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.status != 0 && (!errors.As(err, &e) || e.Status != tc.status):
				t.Fatalf("CheckUse = %v, want status %d", err, tc.status)
			}
		})
	}
}

// TestCheckUseRefusesSeveralOrigins: which of two origins a check reads
// must not be the sender's choice, so a request with more than one is
// refused whatever their order.
func TestCheckUseRefusesSeveralOrigins(t *testing.T) {
	t.Parallel()
	store := &claims.Claims{Kind: claims.KindStorefront, Origins: []string{"https://shop.example.com"}}
	bound := &claims.Claims{Kind: claims.KindAccess, Origins: []string{"https://app.example.com"}}
	for _, tc := range []struct {
		name string
		c    *claims.Claims
		h    http.Header
	}{
		{"storefront, allowed origin first", store, http.Header{"Origin": {"https://shop.example.com", "https://evil.example.com"}}},
		{"storefront, allowed origin second", store, http.Header{"Origin": {"https://evil.example.com", "https://shop.example.com"}}},
		{"storefront, the same origin twice", store, http.Header{"Origin": {"https://shop.example.com", "https://shop.example.com"}}},
		{"storefront, comma list", store, http.Header{"Origin": {"https://shop.example.com, https://evil.example.com"}}},
		{"storefront, comma list without space", store, http.Header{"Origin": {"https://shop.example.com,https://evil.example.com"}}},
		{"storefront, space list (RFC 6454 origin-list)", store, http.Header{"Origin": {"https://shop.example.com https://evil.example.com"}}},
		{"access token, two origins", &claims.Claims{Kind: claims.KindAccess}, http.Header{"Origin": {"https://a.example", "https://b.example"}}},
		{"referrer-bound, two referers", bound, http.Header{"Referer": {"https://app.example.com/a", "https://evil.example.com/b"}}},
		{"referrer-bound, two origins", bound, http.Header{"Origin": {"https://app.example.com", "https://evil.example.com"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *verify.Error
			if err := verify.CheckUse(tc.c, tc.h); !errors.As(err, &e) || e.Status != 403 {
				t.Fatalf("CheckUse = %v, want 403", err)
			}
		})
	}
	if o, err := verify.Origin(http.Header{"Origin": {"https://shop.example.com"}}); err != nil || o != "https://shop.example.com" {
		t.Fatalf("Origin of one header = %q, %v", o, err)
	}
	if o, err := verify.Origin(http.Header{}); err != nil || o != "" {
		t.Fatalf("Origin without the header = %q, %v", o, err)
	}
	if _, ok := verify.RequestOrigin(http.Header{"Referer": {"https://app.example.com/a", "https://app.example.com/b"}}); ok {
		t.Fatal("RequestOrigin chose one of two Referers")
	}
}

// TestWriteErrorRetryAfter: a resource server that could not check a token
// answers 503 with a Retry-After; a refused token gets none.
func TestWriteErrorRetryAfter(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	verify.WriteError(w, errors.New("introspection: connection refused"))
	if w.Code != 503 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("unavailable: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
	w = httptest.NewRecorder()
	verify.WriteError(w, &verify.Error{Status: 401, Code: "invalid_token", Description: "expired"})
	if w.Code != 401 || w.Header().Get("Retry-After") != "" {
		t.Fatalf("refused token: %d, Retry-After %q", w.Code, w.Header().Get("Retry-After"))
	}
}

func TestRequireScopes(t *testing.T) {
	t.Parallel()
	c := &claims.Claims{Scope: "read write"}
	if err := verify.RequireScopes(c, "read", "write"); err != nil {
		t.Fatal(err)
	}
	var e *verify.Error
	if err := verify.RequireScopes(c, "admin"); !errors.As(err, &e) || e.Code != "insufficient_scope" || e.Status != 403 {
		t.Fatalf("RequireScopes = %v", err)
	}
}

func TestNormalizeOrigin(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"https://Example.com":     "https://example.com",
		"https://example.com:443": "https://example.com",
		"http://example.com:80/":  "http://example.com",
		"http://[::1]:8080":       "http://[::1]:8080",
		"ftp://example.com":       "",
		"https://example.com/a":   "",
		"https://u@example.com":   "",
		"null":                    "",
		"http://:":                "",
		"http://x:99999":          "",
	} {
		got, ok := verify.NormalizeOrigin(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestRequireRole(t *testing.T) {
	t.Parallel()
	c := &claims.Claims{Roles: []string{"admin", "superuser"}}
	for _, tc := range []struct {
		name  string
		roles []string
		ok    bool
	}{
		{"none asked", nil, true},
		{"one held", []string{"admin"}, true},
		{"any of", []string{"user", "superuser"}, true},
		{"none held", []string{"user", "guest"}, false},
	} {
		err := verify.RequireRole(c, tc.roles...)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v", tc.name, err)
		}
		if e, ok := err.(*verify.Error); err != nil && (!ok || e.Status != 403) {
			t.Errorf("%s: %#v, want a 403 *verify.Error", tc.name, err)
		}
	}
	if verify.RequireRole(&claims.Claims{}, "user") == nil {
		t.Error("a token without roles passed")
	}
}

func TestCheckChannel(t *testing.T) {
	t.Parallel()
	bound := &claims.Claims{Channels: []string{"1", "667251"}}
	for _, tc := range []struct {
		c       *claims.Claims
		channel string
		ok      bool
	}{
		{bound, "1", true}, {bound, "667251", true}, {bound, "2", false}, {bound, "", true},
		{&claims.Claims{}, "2", true},
	} {
		if err := verify.CheckChannel(tc.c, tc.channel); (err == nil) != tc.ok {
			t.Errorf("CheckChannel(%v, %q) = %v, want ok %v", tc.c.Channels, tc.channel, err, tc.ok)
		}
	}
}
