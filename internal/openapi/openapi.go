// Package openapi holds the OpenAPI 3.1 documents of tokend's HTTP API:
// openapi.json for the native API (the admin API under /v1, the per-tenant
// endpoints under /t/{tenant}, the health, metrics and document
// endpoints), and compat/<surface>.json for each compatible surface's
// legacy endpoints. The files in this directory are the one source of
// truth; they are embedded in the binary and the native one is served at
// GET /openapi.json. Tests in internal/app check them against the routes
// the server registers, both ways, and validate real requests and answers
// against them.
//
// The documents declare OpenAPI 3.1.0 and keep to what kin-openapi
// (the validator of the tests) checks under 3.1: JSON Schema 2020-12 types,
// a value that may be null spelled as a type list with "null" (kin-openapi
// reads an empty schema {} as not nullable, as 3.0 did, so none is used),
// const, and no webhooks.
package openapi

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strconv"
)

//go:embed openapi.json
var Native []byte

//go:embed compat/*.json
var compatFS embed.FS

// Compat returns the document of the compatible surface name (its
// package's name), or nil when there is none.
func Compat(name string) []byte {
	b, err := compatFS.ReadFile("compat/" + name + ".json")
	if err != nil {
		return nil
	}
	return b
}

// Handler serves doc as application/json. The document changes only with
// the binary, so caches may keep it for an hour and revalidate it by ETag.
func Handler(doc []byte) http.Handler {
	sum := sha256.Sum256(doc)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	size := strconv.Itoa(len(doc))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "public, max-age=3600")
		h.Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", size)
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(doc)
		}
	})
}
