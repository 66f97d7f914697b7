// Package admin is the admin API surface (/v1/...): it authenticates the
// bearer token, checks that it may manage the tenant in the path, parses
// requests into the directory core's typed specs and renders records as
// JSON. docs/admin-api.md is its reference. It holds no business rules.
package admin
