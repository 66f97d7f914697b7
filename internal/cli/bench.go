package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokend/tokend/internal/loadgen"
)

// benchOptions are the flags of `tokend bench`.
type benchOptions struct {
	endpoint     string
	tenant       string
	clientID     string
	clientSecret string
	username     string
	password     string
	scope        string
	audience     string
	mode         string
	concurrency  int
	duration     time.Duration
	requests     int64
	warmup       time.Duration
	output       string
	baseline     string
	baselineDB   string
	adminToken   string
	apiToken     string
	storeHash    string

	accountKey       string
	apstrataPassword string
	subjectToken     string
	subjectTokenType string
	project          string

	bgMode         string
	bgConcurrency  int
	bgClientID     string
	bgClientSecret string
}

// benchJSON is one mode's result in -o json output.
type benchJSON struct {
	Mode            string  `json:"mode"`
	Concurrency     int     `json:"concurrency"`
	Requests        int64   `json:"requests"`
	Errors          int64   `json:"errors"`
	DurationSeconds float64 `json:"duration_seconds"`
	RPS             float64 `json:"requests_per_second"`
	P50Ms           float64 `json:"p50_ms"`
	P99Ms           float64 `json:"p99_ms"`
	P999Ms          float64 `json:"p99_9_ms"`
	MaxMs           float64 `json:"max_ms"`
	Samples         int64   `json:"latency_samples"`
	FirstError      string  `json:"first_error,omitempty"`
	// Rejected400 and Throttled429 split the successes of mode bad-password.
	Rejected400  *int64 `json:"rejected_400,omitempty"`
	Throttled429 *int64 `json:"throttled_429,omitempty"`
	SourceAddrs  *int   `json:"source_addresses,omitempty"`
	Note         string `json:"note,omitempty"`
	// Background is the load that ran alongside this mode
	// (--background-mode).
	Background *benchJSON `json:"background,omitempty"`
}

// defaultBackgroundConcurrency is --background-concurrency's default.
const defaultBackgroundConcurrency = 50

// ms converts d to fractional milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// benchCmd returns `tokend bench`.
func benchCmd() *cobra.Command {
	var o benchOptions
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a tokend server on this machine",
		Long: `Drive a running tokend server at a fixed concurrency for a bounded time and
print requests/s and latency p50, p99, p99.9 and max (and the error count).

Modes (--mode, a comma list runs several one after another with the same
settings):
  issue               client_credentials token requests
  introspect          introspection of one valid access token
  introspect-revoked  introspection of one revoked access token
  check               the gateway check (GET /t/{tenant}/check, as nginx
                      auth_request or forward auth calls it) with one valid
                      access token as the bearer token
  verify-lib          a bare in-process net/http server whose handler is the
                      verify package's Middleware (JWKS fetched once and
                      cached, revocation feed followed), driven with one
                      valid access token: a resource server using the
                      library, with no call to tokend per request. The
                      verifier accepts --audience (default: the token's own
                      "aud" claim, the first if several)
  refresh             refresh_token grants, each worker rotating its own chain
                      (started by a password grant with --username/--password)
  baseline-sign       a bare net/http server that only signs one ES256 JWT
                      per request (no tokend involved)
  baseline-verify     the same, only verifying one pre-signed ES256 JWT
  baseline-durable    the durable floor: a bare net/http server doing the
                      irreducible work of a client_credentials issuance:
                      parse the form, check the client's secret against a
                      cached SHA-256 in constant time, sign one ES256 JWT,
                      append one row with tokend's group-commit scheme
                      (SQLite WAL + synchronous=FULL, or one PostgreSQL
                      COMMIT per group; --baseline-database), answer RFC
                      6749 JSON. Its client is fixed (floor and the secret
                      in "tokend bench baseline-server --help")
  bad-password        password grants with a wrong password for a unique
                      unknown username each; 400 invalid_grant and 429
                      (throttled) both count as success and are reported
                      apart. Each worker sends from its own loopback source
                      address 127.0.0.X (X cycling over 2..254), moving on
                      every 15 requests, so the per-address login throttle
                      lets most attempts reach the password hash. Needs a
                      client allowed the password grant.
  device-mint         tokend's device mint with rotation (POST
                      /v1/tenants/{tenant}/devices/{store}/tokens
                      {"rotate":true}) with --admin-token, one store per
                      worker (bench-store-N, created if missing)
  store-token         the store-token surface (POST /stores/{store}/
                      generate_token) with a Knock admin token signed in
                      with --username/--password, the same stores: run it
                      beside device-mint ("--mode device-mint,store-token")
  password            password grants with the right --username/--password
  dotkernel-token     Dotkernel API's JSON POST /security/generate-token
                      (password grant; client id and secret in the body),
                      beside password
  dotkernel-refresh   Dotkernel API's JSON POST /security/refresh-token, each
                      worker rotating its own chain, beside refresh
  token-exchange      RFC 8693 token exchange of one --subject-token (an ID
                      token of a trusted issuer), beside issue
  kind-mint           tokend's storefront-token mint (POST /t/{tenant}/tokens)
                      with an API account's token (--api-token) as bearer
  bigcommerce-token   BigCommerce's POST /stores/{hash}/v3/storefront/
                      api-token with X-Auth-Token --api-token and
                      --store-hash, beside kind-mint
  customer-login      tokend's customer login (POST /t/{tenant}/customers/
                      login) with --username/--password
  bigcommerce-login   BigCommerce's GraphQL login mutation at /stores/{hash}/
                      graphql with a private token made by --api-token,
                      beside customer-login
  tenantauth-token    seed 002's POST /auth/user/generateToken for
                      --username (the email) of --project through
                      --client-id with --client-secret as secret_id,
                      beside issue
  tenantauth-oidc     seed 002's POST /auth/user/oidcToken of one
                      --subject-token, with a generateToken token as the
                      bearer, beside token-exchange

The baselines are the cryptographic floor: the same workers and requests
against a server that does nothing but the signature work, to compare
issue and introspect with. By default (--baseline process) bench runs the
baseline server as a child process, "tokend bench baseline-server KIND",
so that it runs like tokend does: its own process and Go runtime, with the
same GC setting as tokend serve, competing with the load generator for the
CPUs. --baseline in-process serves it from bench's own process instead;
sharing the load generator's runtime makes it faster (1.4-1.6 times on a
2-core machine), so it is not the floor of a separate server, but it is the
fair floor for verify-lib, whose resource server runs inside bench too.

--background-mode runs a second load with its own workers
(--background-concurrency, default 50) alongside every measured mode, over
the same warmup and duration, and reports it in a row marked
"(background)". For example, introspection latency while a login flood
runs: --mode introspect --background-mode bad-password
--background-client-id <password client>.

Clients authenticate with HTTP Basic auth (--client-id, --client-secret or
TOKEND_BENCH_CLIENT_SECRET). Latencies are those of successful requests,
exact over every sample. bench only loads this machine: endpoints whose host
is not loopback (127.0.0.0/8, ::1, localhost) are refused.`,
		Example: `  tokend bench --mode issue --tenant demo --client-id svc --client-secret "$SECRET"
  tokend bench --mode issue,introspect,baseline-sign,baseline-verify --tenant demo \
      --client-id svc --concurrency 128 --duration 30s
  tokend bench --mode introspect,check,verify-lib --tenant demo --client-id svc --client-secret "$SECRET"
  tokend bench --mode refresh --tenant demo --client-id app --username alice --password "$PW" -o json
  tokend bench --mode introspect --tenant demo --client-id svc --client-secret "$SECRET" \
      --background-mode bad-password --background-concurrency 50 \
      --background-client-id app --background-client-secret "$APP_SECRET"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBench(cmd, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.endpoint, "endpoint", defaultEndpoint, "tokend base URL, loopback only (env TOKEND_ENDPOINT)")
	fs.StringVarP(&o.tenant, "tenant", "t", "", "tenant whose OAuth endpoints are driven")
	fs.StringVar(&o.clientID, "client-id", "", "client id (HTTP Basic auth)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "client secret (env TOKEND_BENCH_CLIENT_SECRET)")
	fs.StringVar(&o.username, "username", "", "resource owner for the password grant of mode refresh")
	fs.StringVar(&o.password, "password", "", "resource owner's password for mode refresh")
	fs.StringVar(&o.accountKey, "account-key", "", "account key of mode apstrata")
	fs.StringVar(&o.subjectToken, "subject-token", "", "subject token of mode token-exchange, e.g. an ID token of a trusted issuer (env TOKEND_BENCH_SUBJECT_TOKEN)")
	fs.StringVar(&o.subjectTokenType, "subject-token-type", "urn:ietf:params:oauth:token-type:id_token", "subject_token_type of mode token-exchange")
	fs.StringVar(&o.apstrataPassword, "apstrata-password", "", "apstrata password of the device (--client-id) of mode apstrata (env TOKEND_BENCH_APSTRATA_PASSWORD)")
	fs.StringVar(&o.project, "project", "", "project_id of the tenantauth modes")
	fs.StringVar(&o.scope, "scope", "", "scope to request with token requests")
	fs.StringVar(&o.audience, "audience", "", "audience the verifier of mode verify-lib accepts (default: the token's \"aud\" claim)")
	fs.StringVar(&o.adminToken, "admin-token", os.Getenv("TOKEND_TOKEN"), "admin token of modes device-mint and store-token, which create their stores with it (env TOKEND_TOKEN)")
	fs.StringVar(&o.apiToken, "api-token", os.Getenv("TOKEND_BENCH_API_TOKEN"), "API account token (X-Auth-Token) of the kind-mint and bigcommerce modes (env TOKEND_BENCH_API_TOKEN)")
	fs.StringVar(&o.storeHash, "store-hash", "", "store hash of the bigcommerce modes")
	fs.StringVar(&o.mode, "mode", "", "mode or comma list of modes: "+strings.Join(loadgen.Modes, ", ")+" (required)")
	fs.IntVarP(&o.concurrency, "concurrency", "c", 64, fmt.Sprintf("concurrent workers, 1..%d", loadgen.MaxConcurrency))
	fs.DurationVarP(&o.duration, "duration", "d", 10*time.Second, "measured time per mode, up to "+loadgen.MaxDuration.String())
	fs.Int64Var(&o.requests, "requests", 0, "stop a mode after this many measured requests (0: no cap)")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured time before each mode's measurement")
	fs.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	fs.StringVar(&o.baseline, "baseline", baselineProcess, "where baseline modes run their server: process (a child process) or in-process")
	fs.StringVar(&o.baselineDB, "baseline-database", "", "database of mode baseline-durable: sqlite:PATH or a postgres:// URL (default: a SQLite file in a temporary directory)")
	fs.StringVar(&o.bgMode, "background-mode", "", "mode of a load run alongside each measured mode (one of "+strings.Join(loadgen.Modes, ", ")+")")
	fs.IntVar(&o.bgConcurrency, "background-concurrency", defaultBackgroundConcurrency, "workers of the background load")
	fs.StringVar(&o.bgClientID, "background-client-id", "", "client id of the background load (default: --client-id)")
	fs.StringVar(&o.bgClientSecret, "background-client-secret", "", "client secret of the background load (default: --client-secret)")
	_ = cmd.MarkFlagRequired("mode")
	cmd.AddCommand(baselineServerCmd(), seedDataCmd())
	return cmd
}

// --baseline values.
const (
	baselineProcess   = "process"
	baselineInProcess = "in-process"
)

// baselineServerCmd returns `tokend bench baseline-server`, the child
// process of the baseline modes.
func baselineServerCmd() *cobra.Command {
	var addr, database string
	cmd := &cobra.Command{
		Use:   "baseline-server sign|verify|durable",
		Short: "Serve a bare ES256 sign, verify or durable-issue handler, the floor bench compares tokend with",
		Long: `Serve the baseline of bench's baseline-sign, baseline-verify or
baseline-durable mode: a bare net/http server whose only work per request
is to sign one ES256 JWT (POST /sign) or to verify one (POST /verify with
token=<JWT>; GET /token hands out the token it verifies), or, for durable,
a client_credentials issuance (POST /oauth2/token with client ` + loadgen.BaselineClientID + `
and secret ` + loadgen.BaselineClientSecret + `, by Basic auth or in the
body): parse the form, check the secret's cached SHA-256 in constant time,
sign one ES256 JWT, append one row durably through a group committer like
tokend's (--baseline-database: SQLite in WAL mode with synchronous=FULL, or
PostgreSQL, one COMMIT per group), answer RFC 6749 JSON. It prints its base URL as the first line
of standard output and serves until standard input ends or it gets SIGINT
or SIGTERM. bench starts it by itself; run it directly to drive the same
floor with another load generator.`,
		Example: `  tokend bench baseline-server sign --addr 127.0.0.1:9090 < /dev/tty
  sleep 600 | tokend bench baseline-server durable --baseline-database sqlite:/var/tmp/floor.db`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			if !slices.Contains(loadgen.BaselineKinds, kind) {
				return fmt.Errorf("baseline %q: want one of %s", kind, strings.Join(loadgen.BaselineKinds, ", "))
			}
			tuneGC()
			return loadgen.ServeBaseline(cmd.Context(), addr, kind, loadgen.BaselineOptions{Database: database},
				cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:0", "loopback address to listen on (port 0: a free port)")
	cmd.Flags().StringVar(&database, "baseline-database", "", "database of the durable floor: sqlite:PATH or a postgres:// URL (default: a SQLite file in a temporary directory, removed on exit)")
	return cmd
}

// startBaseline starts the baseline server of mode as a child process
// (tokend bench baseline-server) and returns its URL and stop function.
func startBaseline(ctx context.Context, mode, database string) (string, func(), error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, fmt.Errorf("baseline process: %w", err)
	}
	return loadgen.StartBaselineProcess(ctx, exe, "bench", "baseline-server", strings.TrimPrefix(mode, "baseline-"),
		"--baseline-database", database)
}

// runBench validates the options, runs every mode and prints the results.
func runBench(cmd *cobra.Command, o benchOptions) error {
	o.endpoint = flagOrEnv(cmd, "endpoint", o.endpoint, "TOKEND_ENDPOINT")
	o.clientSecret = flagOrEnv(cmd, "client-secret", o.clientSecret, "TOKEND_BENCH_CLIENT_SECRET")
	o.apstrataPassword = flagOrEnv(cmd, "apstrata-password", o.apstrataPassword, "TOKEND_BENCH_APSTRATA_PASSWORD")
	o.subjectToken = flagOrEnv(cmd, "subject-token", o.subjectToken, "TOKEND_BENCH_SUBJECT_TOKEN")
	if o.output != "table" && o.output != "json" {
		return fmt.Errorf("--output %q: want table or json", o.output)
	}
	if o.baseline != baselineProcess && o.baseline != baselineInProcess {
		return fmt.Errorf("--baseline %q: want %s or %s", o.baseline, baselineProcess, baselineInProcess)
	}
	var modes []string
	needsEndpoint := false
	for m := range strings.SplitSeq(o.mode, ",") {
		m = strings.TrimSpace(m)
		if !loadgen.ValidMode(m) {
			return fmt.Errorf("--mode %q: unknown mode %q (want one of %s)", o.mode, m, strings.Join(loadgen.Modes, ", "))
		}
		modes = append(modes, m)
		needsEndpoint = needsEndpoint || !loadgen.IsBaseline(m)
	}
	if o.concurrency < 1 || o.concurrency > loadgen.MaxConcurrency {
		return fmt.Errorf("--concurrency %d: want 1..%d", o.concurrency, loadgen.MaxConcurrency)
	}
	if o.duration <= 0 || o.duration > loadgen.MaxDuration {
		return fmt.Errorf("--duration %s: want more than 0 and at most %s", o.duration, loadgen.MaxDuration)
	}
	if o.warmup < 0 || o.warmup > loadgen.MaxDuration {
		return fmt.Errorf("--warmup %s: want 0 to %s", o.warmup, loadgen.MaxDuration)
	}
	if o.requests < 0 {
		return fmt.Errorf("--requests %d: want 0 (no cap) or more", o.requests)
	}
	if needsEndpoint {
		if err := loadgen.CheckLoopback(o.endpoint); err != nil {
			return fmt.Errorf("--endpoint: %w", err)
		}
		if o.tenant == "" {
			return fmt.Errorf("--tenant is required for mode %s", strings.Join(modes, ","))
		}
		if o.clientID == "" && slices.ContainsFunc(modes, func(m string) bool {
			return m != loadgen.ModeDeviceMint && m != loadgen.ModeStoreToken && !slices.Contains(loadgen.BigCommerceModes, m)
		}) {
			return fmt.Errorf("--client-id is required for mode %s", strings.Join(modes, ","))
		}
	}
	var bg *loadgen.Config
	if o.bgMode != "" {
		if !loadgen.ValidMode(o.bgMode) {
			return fmt.Errorf("--background-mode %q: want one of %s", o.bgMode, strings.Join(loadgen.Modes, ", "))
		}
		if o.bgConcurrency < 1 || o.bgConcurrency > loadgen.MaxConcurrency {
			return fmt.Errorf("--background-concurrency %d: want 1..%d", o.bgConcurrency, loadgen.MaxConcurrency)
		}
		if !cmd.Flags().Changed("background-client-id") {
			o.bgClientID = o.clientID
		}
		if !cmd.Flags().Changed("background-client-secret") {
			o.bgClientSecret = o.clientSecret
		}
		bg = &loadgen.Config{
			Mode: o.bgMode, Endpoint: o.endpoint, Tenant: o.tenant,
			ClientID: o.bgClientID, ClientSecret: o.bgClientSecret,
			Username: o.username, Password: o.password, Scope: o.scope, Audience: o.audience,
			Concurrency: o.bgConcurrency,
		}
		if loadgen.IsBaseline(o.bgMode) {
			bg.Endpoint = "" // Run starts its own baseline server
			if o.baseline == baselineProcess {
				url, stop, err := startBaseline(cmd.Context(), o.bgMode, o.baselineDB)
				if err != nil {
					return err
				}
				defer stop()
				bg.Endpoint = url
			}
		} else {
			if err := loadgen.CheckLoopback(o.endpoint); err != nil {
				return fmt.Errorf("--endpoint: %w", err)
			}
			if o.tenant == "" {
				return fmt.Errorf("--tenant is required for background mode %s", o.bgMode)
			}
			if o.bgClientID == "" {
				return fmt.Errorf("--background-client-id or --client-id is required for background mode %s", o.bgMode)
			}
		}
	} else {
		for _, f := range []string{"background-concurrency", "background-client-id", "background-client-secret"} {
			if cmd.Flags().Changed(f) {
				return fmt.Errorf("--%s needs --background-mode", f)
			}
		}
	}

	ctx := cmd.Context()
	errOut := cmd.ErrOrStderr()
	var results []loadgen.Result
	for _, m := range modes {
		cfg := loadgen.Config{
			Mode:             m,
			Endpoint:         o.endpoint,
			Tenant:           o.tenant,
			ClientID:         o.clientID,
			ClientSecret:     o.clientSecret,
			AccountKey:       o.accountKey,
			ApstrataPassword: o.apstrataPassword,
			SubjectToken:     o.subjectToken,
			SubjectTokenType: o.subjectTokenType,
			Username:         o.username,
			Password:         o.password,
			Scope:            o.scope,
			Project:          o.project,
			Audience:         o.audience,
			AdminToken:       o.adminToken,
			APIToken:         o.apiToken,
			StoreHash:        o.storeHash,
			Concurrency:      o.concurrency,
			Duration:         o.duration,
			Requests:         o.requests,
			Warmup:           o.warmup,
			Background:       bg,
			BaselineDatabase: o.baselineDB,
		}
		stop := func() {}
		if loadgen.IsBaseline(m) {
			cfg.Endpoint = "" // Run starts its own baseline server
			if o.baseline == baselineProcess {
				url, stopBaseline, err := startBaseline(ctx, m, o.baselineDB)
				if err != nil {
					if len(results) > 0 {
						_ = printBench(cmd.OutOrStdout(), o.output, results)
					}
					return err
				}
				cfg.Endpoint, stop = url, stopBaseline
			}
		}
		fmt.Fprintf(errOut, "bench: %s, concurrency %d, warmup %s, duration %s\n", m, o.concurrency, o.warmup, o.duration)
		if bg != nil {
			fmt.Fprintf(errOut, "bench: background %s, concurrency %d, alongside %s\n", bg.Mode, bg.Concurrency, m)
		}
		res, err := loadgen.Run(ctx, cfg)
		stop()
		if err != nil {
			if len(results) > 0 {
				_ = printBench(cmd.OutOrStdout(), o.output, results)
			}
			return err
		}
		results = append(results, res)
		for _, r := range []*loadgen.Result{&res, res.Background} {
			if r == nil {
				continue
			}
			name := r.Mode
			if r == res.Background {
				name += " (background)"
			}
			if r.Errors > 0 {
				fmt.Fprintf(errOut, "bench: %s: %d of %d requests failed; first: %s\n", name, r.Errors, r.Requests, r.FirstError)
			}
			if r.SourceAddrs > 0 {
				fmt.Fprintf(errOut, "bench: %s: sent from %d loopback source addresses, %d requests each before moving on\n",
					name, r.SourceAddrs, loadgen.RotateEvery)
			}
			if r.Note != "" {
				fmt.Fprintf(errOut, "bench: %s: %s\n", name, r.Note)
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err := printBench(cmd.OutOrStdout(), o.output, results); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("bench interrupted: %w", ctx.Err())
	}
	return nil
}

// printBench writes results as a table or as a JSON array.
func printBench(w io.Writer, output string, results []loadgen.Result) error {
	if output == "json" {
		out := make([]*benchJSON, len(results))
		for i, r := range results {
			out[i] = toBenchJSON(r)
			if r.Background != nil {
				out[i].Background = toBenchJSON(*r.Background)
			}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	// Rows: every result, each followed by its background.
	type row struct {
		name string
		r    loadgen.Result
	}
	var rows []row
	flood := false
	for _, r := range results {
		rows = append(rows, row{r.Mode, r})
		if r.Background != nil {
			rows = append(rows, row{r.Background.Mode + " (background)", *r.Background})
		}
	}
	for _, rw := range rows {
		flood = flood || rw.r.Mode == loadgen.ModeBadPassword
	}
	tw := newTable(w)
	header := "MODE\tCONCURRENCY\tREQUESTS\tERRORS\tREQ/S\tP50\tP99\tP99.9\tMAX"
	if flood {
		header += "\t400 INVALID_GRANT\t429 THROTTLED"
	}
	fmt.Fprintln(tw, header)
	var notes []string
	for _, rw := range rows {
		r := rw.r
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%s", rw.name, r.Concurrency, r.Requests, r.Errors, r.RPS,
			fmtLatency(r.P50), fmtLatency(r.P99), fmtLatency(r.P999), fmtLatency(r.Max))
		if flood {
			if r.Mode == loadgen.ModeBadPassword {
				fmt.Fprintf(tw, "\t%d\t%d", r.Rejected400, r.Throttled429)
			} else {
				fmt.Fprint(tw, "\t-\t-")
			}
		}
		fmt.Fprintln(tw)
		if r.Note != "" {
			notes = append(notes, rw.name+": "+r.Note)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range notes {
		if _, err := fmt.Fprintln(w, "note: "+n); err != nil {
			return err
		}
	}
	return nil
}

// toBenchJSON converts one result (without its background).
func toBenchJSON(r loadgen.Result) *benchJSON {
	j := &benchJSON{
		Mode: r.Mode, Concurrency: r.Concurrency, Requests: r.Requests, Errors: r.Errors,
		DurationSeconds: r.Duration.Seconds(), RPS: r.RPS,
		P50Ms: ms(r.P50), P99Ms: ms(r.P99), P999Ms: ms(r.P999), MaxMs: ms(r.Max),
		Samples: r.Samples, FirstError: r.FirstError, Note: r.Note,
	}
	if r.Mode == loadgen.ModeBadPassword {
		j.Rejected400, j.Throttled429, j.SourceAddrs = &r.Rejected400, &r.Throttled429, &r.SourceAddrs
	}
	return j
}

// fmtLatency formats d in milliseconds with microsecond precision.
func fmtLatency(d time.Duration) string {
	return fmt.Sprintf("%.3fms", ms(d))
}
