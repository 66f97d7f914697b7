// Package reqctx carries request-scoped values (request id, remote address,
// user agent) through a context. Nothing else belongs in a context value.
package reqctx

import "context"

type key struct{}

// Info is the request-scoped data.
type Info struct {
	RequestID  string
	RemoteAddr string
	UserAgent  string
}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the info in ctx, zero if none.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}
