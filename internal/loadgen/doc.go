// Package loadgen is the load generator behind `tokend bench`.
//
// It owns three things:
//
//   - the workers: Run drives one HTTP endpoint at a fixed concurrency for a
//     bounded time (and optionally a bounded number of requests) through one
//     shared keep-alive http.Client, and reports requests per second and exact
//     latency percentiles (p50, p99, p99.9, max) computed from every recorded
//     sample;
//   - the request shapes of each mode (issue, introspect, introspect-revoked,
//     check, refresh, bad-password) as a client sends them to tokend's OAuth
//     2.0 endpoints and gateway check, and what counts as a success for
//     each. verify-lib drives an in-process resource server built on the
//     public verify package (JWKS cached, revocation feed followed, no call
//     to tokend per request) with a token tokend issued. bad-password is a
//     login flood: each worker has its own client whose source address
//     rotates over 127.0.0.2..254, so tokend's per-address login throttle
//     does not refuse most attempts before they reach the password hash;
//   - background loads (Config.Background): a second set of workers in
//     another mode over the same window, to measure one endpoint (say
//     introspection) while another (say a login flood) loads the server;
//   - the baselines: a bare net/http server on 127.0.0.1 that only signs or
//     only verifies one ES256 JWT per request, in this process
//     (StartBaseline) or in a child process (StartBaselineProcess running
//     ServeBaseline, as tokend bench does by default). Driving it with the
//     same workers gives the "cryptographic floor" that tokend's own numbers
//     are compared against; in a child process it runs as tokend does, with
//     its own Go runtime competing for the CPUs.
//
// loadgen is a tool for measuring your own machine: it refuses any endpoint
// whose host is not a loopback address (CheckLoopback), never follows
// redirects and never uses a proxy, so its traffic cannot leave the host.
package loadgen
