// Package golden compares wire formats with golden files, for tests only
// (only _test.go files import it; archtest checks).
//
// [Assert] compares a response, rendered by [Render] or [Fetch], with
// testdata/<name>.golden in the calling package's directory, after
// [Normalize] has replaced volatile values (tokens, ids, timestamps, key
// material, ports) by stable placeholders. Golden files are rewritten,
// instead of compared, when the test binary runs with -update (a flag this
// package registers, so it works for any package that imports it) or with
// TOKEND_UPDATE_GOLDEN=1 in the environment (which works for go test ./...,
// whose other test binaries do not know -update). [Compare] never rewrites:
// a second run of the same cases (on another backend) proves it produces
// the same bytes.
package golden
