package httpx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// maxHops bounds how much of a forwarding chain is read.
const maxHops = 64

// Forwarded makes r.RemoteAddr the address of the client when a request
// comes through a trusted reverse proxy, before h (and so the throttles,
// the audit log and the access log) sees it. From any other peer the
// forwarding headers are ignored. With no trusted proxies it returns h.
//
// tokend builds no URL from the request (every issuer is --public-url), so
// X-Forwarded-Proto and Forwarded's proto= have nothing to change.
func Forwarded(h http.Handler, trusted []netip.Prefix) http.Handler {
	if len(trusted) == 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a, ok := ClientAddr(r.RemoteAddr, r.Header, trusted); ok {
			r = r.WithContext(r.Context()) // a shallow copy: the caller's request stays as it was
			r.RemoteAddr = net.JoinHostPort(a.String(), "0")
		}
		h.ServeHTTP(w, r)
	})
}

// ClientAddr returns the address of the client of a request whose peer
// (host:port, as in http.Request.RemoteAddr) is a trusted proxy: the
// right-most address of the forwarding chain that is not itself a trusted
// proxy. The chain is the for= parameters of Forwarded (RFC 7239 §5.2)
// when the request has that header, else X-Forwarded-For. Each proxy adds
// the address it got the request from at the right, so everything left of
// the first untrusted hop was written by whoever sent the request and is
// not believed. A hop that does not parse (RFC 7239's "unknown", an
// obfuscated name, garbage) ends the walk at the trusted proxy that wrote
// it. ok is false when the peer is not a trusted proxy or names no client.
func ClientAddr(peer string, h http.Header, trusted []netip.Prefix) (netip.Addr, bool) {
	p, ok := parseNode(peer)
	if !ok || !contains(trusted, p) {
		return netip.Addr{}, false
	}
	var hops []string
	if fw := h.Values("Forwarded"); len(fw) > 0 {
		hops = forwardedFor(fw)
	} else {
		for _, v := range h.Values("X-Forwarded-For") {
			for _, f := range strings.Split(v, ",") {
				hops = append(hops, strings.TrimSpace(f))
			}
		}
	}
	client := p
	for i := len(hops) - 1; i >= 0 && i >= len(hops)-maxHops; i-- {
		a, ok := parseNode(hops[i])
		if !ok {
			break
		}
		client = a
		if !contains(trusted, a) {
			break
		}
	}
	return client, client != p
}

func contains(prefixes []netip.Prefix, a netip.Addr) bool {
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// parseNode parses an address with an optional port: 192.0.2.1,
// 192.0.2.1:80, 2001:db8::1, [2001:db8::1] or [2001:db8::1]:80. Zones are
// refused; IPv4-mapped IPv6 addresses are unmapped.
func parseNode(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 || (end+1 < len(s) && s[end+1] != ':') {
			return netip.Addr{}, false
		}
		s = s[1:end]
	} else if strings.Count(s, ":") == 1 {
		s, _, _ = strings.Cut(s, ":")
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// forwardedFor returns the for= value of each element of Forwarded header
// values (RFC 7239 §4), in order; an element without one is "".
func forwardedFor(values []string) []string {
	var out []string
	for _, v := range values {
		for _, elem := range splitQuoted(v, ',') {
			node := ""
			for _, pair := range splitQuoted(elem, ';') {
				name, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(name), "for") {
					node = unquote(strings.TrimSpace(val))
				}
			}
			out = append(out, node)
		}
		if len(out) > maxHops*4 {
			break
		}
	}
	return out
}

// splitQuoted splits s at sep outside quoted strings (RFC 9110 §5.6.4).
func splitQuoted(s string, sep byte) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unquote removes the quotes and backslash escapes of a quoted string;
// anything else is returned as it is.
func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
