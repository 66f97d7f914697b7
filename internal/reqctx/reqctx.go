// Package reqctx carries request-scoped values (request id, remote address,
// user agent) through a context. Nothing else belongs in a context value.
package reqctx

import (
	"context"
	"net/netip"
)

type key struct{}

// Info is the request-scoped data.
type Info struct {
	RequestID  string
	RemoteAddr string
	UserAgent  string
	// Surface names the compatible surface the request came through
	// (internal/compat/<name>); empty for tokend's own endpoints.
	Surface string
}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// WithSurface returns ctx whose info names the compatible surface the
// request came through, so that audit events and metrics name it.
func WithSurface(ctx context.Context, name string) context.Context {
	info := From(ctx)
	info.Surface = name
	return With(ctx, info)
}

// From returns the info in ctx, zero if none.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}

// Source is a remote address as failure counters count it: an IPv6
// address counts as its /64, the block one host is normally given, so that
// one host does not get a fresh count for each of its addresses. Anything
// that is not an IP address is returned as it is.
func Source(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return addr
	}
	if a = a.Unmap(); a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
