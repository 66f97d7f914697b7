package httpx

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

var testProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, peer string
		hdr        map[string][]string
		want       string // "" means the peer itself (ok false)
	}{
		{"untrusted peer: headers ignored", "203.0.113.9:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, ""},
		{"untrusted peer: Forwarded ignored", "203.0.113.9:5000", map[string][]string{"Forwarded": {"for=198.51.100.1"}}, ""},
		{"trusted peer, no header", "10.0.0.2:5000", nil, ""},
		{"one hop", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"spoofed left part ignored", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1"}}, "198.51.100.1"},
		{"trusted hops skipped", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"1.1.1.1, 198.51.100.1, 10.1.1.1"}}, "198.51.100.1"},
		{"several header lines", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"1.1.1.1", "198.51.100.1, 10.9.9.9"}}, "198.51.100.1"},
		{"all trusted: left-most", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"10.3.3.3, 10.1.1.1"}}, "10.3.3.3"},
		{"garbage ends the walk", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1, nonsense, 10.1.1.1"}}, "10.1.1.1"},
		{"garbage right away", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"nonsense"}}, ""},
		{"address with port", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1:4711"}}, "198.51.100.1"},
		{"IPv6", "[fd00::1]:5000", map[string][]string{"X-Forwarded-For": {"2001:db8::7"}}, "2001:db8::7"},
		{"mapped IPv4 peer", "[::ffff:10.0.0.2]:5000", map[string][]string{"X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.1"},
		{"zone refused", "10.0.0.2:5000", map[string][]string{"X-Forwarded-For": {"fe80::1%eth0"}}, ""},
		{"Forwarded", "10.0.0.2:5000", map[string][]string{"Forwarded": {`for=1.1.1.1, For="[2001:db8:cafe::17]:4711";proto=https, for=10.4.4.4;by=10.0.0.2`}}, "2001:db8:cafe::17"},
		{"Forwarded wins over X-Forwarded-For", "10.0.0.2:5000", map[string][]string{"Forwarded": {"for=198.51.100.2"}, "X-Forwarded-For": {"198.51.100.1"}}, "198.51.100.2"},
		{"Forwarded unknown", "10.0.0.2:5000", map[string][]string{"Forwarded": {"for=198.51.100.2, for=unknown"}}, ""},
		{"Forwarded element without for", "10.0.0.2:5000", map[string][]string{"Forwarded": {"for=198.51.100.2, proto=https"}}, ""},
		{"Forwarded quoted separators", "10.0.0.2:5000", map[string][]string{"Forwarded": {`for="1.1.1.1,;\"", for=198.51.100.3`}}, "198.51.100.3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ClientAddr(tc.peer, http.Header(tc.hdr), testProxies)
			if tc.want == "" {
				if ok {
					t.Fatalf("ClientAddr = %v, want the peer", got)
				}
				return
			}
			if !ok || got.String() != tc.want {
				t.Fatalf("ClientAddr = %v %v, want %s", got, ok, tc.want)
			}
		})
	}
}

func TestForwardedRewritesRemoteAddr(t *testing.T) {
	t.Parallel()
	var seen string
	h := Forwarded(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { seen = r.RemoteAddr }), testProxies)
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr = "10.0.0.2:5000"
	req.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen != "198.51.100.1:0" || req.RemoteAddr != "10.0.0.2:5000" {
		t.Fatalf("handler saw %q; the caller's request now says %q", seen, req.RemoteAddr)
	}
	if h := Forwarded(http.NotFoundHandler(), nil); h == nil {
		t.Fatal("no handler without proxies")
	}
}

// FuzzClientAddr: headers from an untrusted peer never name the client;
// from a trusted one they name a valid address without a zone, or none.
func FuzzClientAddr(f *testing.F) {
	for _, s := range []string{"198.51.100.1", "1.1.1.1, 10.0.0.1", `for="[2001:db8::1]:80";proto=http, for=unknown`, `for="\"`, ",,;", "[::1", "for="} {
		f.Add("10.0.0.2:1", s, s)
		f.Add("203.0.113.9:1", s, s)
	}
	f.Fuzz(func(t *testing.T, peer, xff, fwd string) {
		for _, h := range []http.Header{{"X-Forwarded-For": {xff}}, {"Forwarded": {fwd}}} {
			a, ok := ClientAddr(peer, h, testProxies)
			if !ok {
				continue
			}
			if p, _ := parseNode(peer); !contains(testProxies, p) {
				t.Fatalf("peer %q is not trusted, yet its headers named %v", peer, a)
			}
			if again, err := netip.ParseAddr(a.String()); err != nil || again != a || a.Zone() != "" || a.Is4In6() {
				t.Fatalf("ClientAddr named %v from %v", a, h)
			}
		}
	})
}
