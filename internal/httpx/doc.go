// Package httpx is the HTTP edge shared by every surface: middleware
// (request ids, access log, limits, panic recovery, metrics), strict JSON
// decoding, and the one mapping of fault codes to status codes and bodies.
package httpx
