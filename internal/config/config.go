package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Names of the environment variables that do not follow the
// TOKEND_<FLAG NAME> rule, and of the _FILE variants.
const (
	// EnvMasterKey holds the master key itself.
	EnvMasterKey = "TOKEND_MASTER_KEY"
	// EnvMasterKeyFile names a file holding the master key.
	EnvMasterKeyFile = "TOKEND_MASTER_KEY_FILE"
	// EnvDatabaseURL holds the database URL (the --database flag).
	EnvDatabaseURL = "TOKEND_DATABASE_URL"
	// EnvDatabaseURLFile names a file holding the database URL.
	EnvDatabaseURLFile = "TOKEND_DATABASE_URL_FILE"
	// EnvConfig names the JSON configuration file (the --config flag).
	EnvConfig = "TOKEND_CONFIG"
)

// MinMaxBodyBytes is the smallest accepted MaxBodyBytes.
const MinMaxBodyBytes = 1024

// DefaultRequestTimeout is the request deadline unless WriteTimeout asks
// for a shorter one.
const DefaultRequestTimeout = 5 * time.Second

// unsetDuration marks a duration not set by the file, environment or flags.
const unsetDuration = time.Duration(math.MinInt64)

// Config is the configuration of the tokend server commands. Load builds it
// from flags, the environment, an optional JSON file and Default.
type Config struct {
	// Addr is the host:port the server listens on (--addr, TOKEND_ADDR).
	Addr string
	// PublicURL is the absolute http(s) URL clients reach the server at,
	// without a trailing slash, query or fragment (--public-url,
	// TOKEND_PUBLIC_URL). Load derives it from Addr when it is not set.
	PublicURL string
	// DataDir is the directory for the embedded database and local state
	// (--data, TOKEND_DATA).
	DataDir string
	// DatabaseURL is a postgres:// or postgresql:// URL; empty selects the
	// embedded SQLite database in DataDir (--database, TOKEND_DATABASE_URL
	// or TOKEND_DATABASE_URL_FILE).
	DatabaseURL string
	// MasterKey is read only from TOKEND_MASTER_KEY or the file named by
	// TOKEND_MASTER_KEY_FILE; it is never a flag nor a configuration file key.
	MasterKey string
	// Dev enables development mode (--dev, TOKEND_DEV).
	Dev bool
	// LogLevel is debug, info, warn or error (--log-level, TOKEND_LOG_LEVEL).
	LogLevel string
	// LogFormat is json or text (--log-format, TOKEND_LOG_FORMAT).
	LogFormat string
	// ReadHeaderTimeout bounds reading request headers (--read-header-timeout).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request (--read-timeout).
	ReadTimeout time.Duration
	// WriteTimeout bounds writing a response (--write-timeout).
	WriteTimeout time.Duration
	// IdleTimeout bounds keep-alive idleness (--idle-timeout).
	IdleTimeout time.Duration
	// ShutdownTimeout bounds graceful shutdown (--shutdown-timeout).
	ShutdownTimeout time.Duration
	// RequestTimeout is every request's deadline, database calls included;
	// past it the answer is 503 temporarily_unavailable. It must be below
	// WriteTimeout; when not set, Load makes it DefaultRequestTimeout or
	// two thirds of WriteTimeout, whichever is lower (--request-timeout).
	RequestTimeout time.Duration
	// StaleFor is how long, while the database is unreachable, the last
	// known clients, keys and revocations keep serving introspection and
	// the gateway check past their normal cache lifetime; 0 never serves
	// stale state (--stale-for).
	StaleFor time.Duration
	// RequireSynchronousStandby keeps /readyz at 503 while the PostgreSQL
	// server reports no synchronous standby that commits wait for, so that
	// a failover loses no acknowledged write
	// (--require-synchronous-standby; PostgreSQL only).
	RequireSynchronousStandby bool
	// RefreshGrace is how long after a rotation the spent refresh token
	// still gets its successor again, for a client that lost the response
	// (--refresh-grace).
	RefreshGrace time.Duration
	// PruneInterval is how often expired rows are deleted; 0 disables
	// pruning (--prune-interval).
	PruneInterval time.Duration
	// PruneAfter is how long past its expiry (and lifetime) a ledger row
	// is kept for listing and audit before pruning deletes it
	// (--prune-after).
	PruneAfter time.Duration
	// MaxBodyBytes caps request bodies; at least MinMaxBodyBytes
	// (--max-body-bytes).
	MaxBodyBytes int64
	// MaxInflight is the most requests served at once; a request beyond
	// it waits a few milliseconds for a slot and is otherwise answered
	// 503 with a Retry-After (health, readiness and metrics are exempt).
	// 0 means Inflight's default (--max-inflight).
	MaxInflight int64
	// ConfigFile is the optional JSON configuration file that was read
	// (--config, TOKEND_CONFIG).
	ConfigFile string
	// TrustedProxies is a comma-separated list of CIDR prefixes (or
	// addresses) of the reverse proxies whose Forwarded and
	// X-Forwarded-* headers are believed (--trusted-proxies,
	// TOKEND_TRUSTED_PROXIES); empty believes none. See Proxies.
	TrustedProxies string
	// SurfaceHosts maps request hosts to tenants for compatible surfaces
	// whose requests name no tenant: "host=tenant,..." (--surface-hosts,
	// TOKEND_SURFACE_HOSTS). See Pairs.
	SurfaceHosts string
	// SurfaceTenants binds a compatible surface to the one tenant it
	// serves requests that name none, when their host is not in
	// SurfaceHosts: "surface=tenant,..." (--surface-tenants,
	// TOKEND_SURFACE_TENANTS).
	SurfaceTenants string
	// BigCommerceDomain is the domain of the BigCommerce surface's GraphQL
	// hosts, store-{hash}-{channel}.{domain} (--bigcommerce-domain,
	// TOKEND_BIGCOMMERCE_DOMAIN; BigCommerce's client reads it from
	// BIGCOMMERCE_GRAPHQL_API_DOMAIN). Empty serves that GraphQL only at
	// /stores/{hash}/graphql.
	BigCommerceDomain string
	// TLSCert and TLSKey are PEM files of the server's certificate chain
	// and private key (--tls-cert, --tls-key); with both set tokend serves
	// HTTPS (HTTP/2 and HTTP/1.1) itself and reloads them on SIGHUP or
	// when the files change.
	TLSCert string
	TLSKey  string

	// Vault: where clients' secrets held in HashiCorp Vault are read
	// (docs/vault.md). VaultAddr is its URL (--vault-addr); empty turns
	// the Vault backend off. tokend authenticates with a token
	// (VaultToken from VAULT_TOKEN, or --vault-token-file) or with
	// AppRole (VAULT_ROLE_ID or --vault-role-id-file, and VAULT_SECRET_ID
	// or --vault-secret-id-file, at --vault-approle-mount). The token and
	// the AppRole credentials themselves are never flags nor file keys.
	VaultAddr         string
	VaultNamespace    string
	VaultTokenFile    string
	VaultRoleIDFile   string
	VaultSecretIDFile string
	VaultAppRoleMount string
	VaultCacheTTL     time.Duration
	VaultTimeout      time.Duration
	VaultToken        string
	VaultRoleID       string
	VaultSecretID     string
	// UpstreamTimeout bounds each request to another provider (discovery,
	// JWKS, introspection) of a trusted issuer (--upstream-timeout).
	UpstreamTimeout time.Duration
	// UpstreamInsecureLoopback lets trusted issuers on a loopback host be
	// fetched over plain http; --dev implies it
	// (--upstream-allow-insecure-loopback).
	UpstreamInsecureLoopback bool
	// DevTrustIssuer, in dev mode, makes the demo tenant trust this
	// OpenID Connect issuer (--dev-trust-issuer).
	DevTrustIssuer string
	// DevTrustAudience adds, comma-separated, the audiences the dev
	// trusted issuer's tokens may carry besides demo-exchange and the demo
	// tenant's issuer (--dev-trust-audience), e.g. the provider's client
	// id that ID tokens name.
	DevTrustAudience string
	// OTLPEndpoint is the OTLP/HTTP collector URL spans are exported to
	// (--otlp-endpoint); empty: tracing off.
	OTLPEndpoint string
	// PprofAddr, when set, is a loopback host:port where a second listener
	// serves Go's runtime profiles (net/http/pprof under /debug/pprof/)
	// for `go tool pprof` (--pprof-addr); empty (the default) serves none.
	PprofAddr string
	// JWKSMaxAge is how long clients may cache a tenant's JWKS (its
	// Cache-Control max-age, --jwks-max-age).
	JWKSMaxAge time.Duration
	// KeyRotationStage is how long a staged key rotation publishes the new
	// key before it signs (--key-rotation-stage): more than JWKSMaxAge plus
	// the time every replica takes to load the new key.
	KeyRotationStage time.Duration

	// Audit sinks (README "Audit sinks"): where committed audit events
	// are forwarded, in chain order, asynchronously from issuance.
	// AuditWebhook is an http(s) URL each batch is POSTed to as NDJSON,
	// signed with AuditWebhookSecret (--audit-webhook; plain http only to
	// a loopback host).
	AuditWebhook string
	// AuditWebhookSecret is the HMAC key of the webhook's signature, read
	// only from TOKEND_AUDIT_WEBHOOK_SECRET (never a flag nor a
	// configuration file key); AuditWebhookSecretFile names a file
	// holding it instead (--audit-webhook-secret-file,
	// TOKEND_AUDIT_WEBHOOK_SECRET_FILE), read at start-up.
	AuditWebhookSecret     string
	AuditWebhookSecretFile string
	// AuditWebhookTimeout bounds each delivery (--audit-webhook-timeout).
	AuditWebhookTimeout time.Duration
	// AuditSyslog is where each event is sent as an RFC 5424 message:
	// udp://host:port, tcp://host:port or unix:///path (a datagram
	// socket such as /dev/log; unixstream:///path for a stream one)
	// (--audit-syslog).
	AuditSyslog string
	// AuditSinkInterval is how often the sinks look for new events; an
	// event recorded on this replica wakes them at once
	// (--audit-sink-interval).
	AuditSinkInterval time.Duration
}

// EnvAuditWebhookSecret holds the audit webhook's HMAC key (or, with
// _FILE, names a file holding it).
const EnvAuditWebhookSecret = "TOKEND_AUDIT_WEBHOOK_SECRET"

// MinAuditWebhookSecret is the shortest HMAC key the webhook accepts.
const MinAuditWebhookSecret = 16

// Vault's own environment variables, read for the credentials tokend
// authenticates to Vault with.
const (
	EnvVaultToken    = "VAULT_TOKEN"
	EnvVaultRoleID   = "VAULT_ROLE_ID"
	EnvVaultSecretID = "VAULT_SECRET_ID"
)

// VaultAppRole reports whether tokend logs in to Vault with AppRole.
func (c Config) VaultAppRole() bool {
	return c.VaultRoleID != "" || c.VaultRoleIDFile != "" || c.VaultSecretID != "" || c.VaultSecretIDFile != ""
}

// Inflight is the in-flight request limit: MaxInflight, or when 0
// InflightPerCPU per CPU of GOMAXPROCS and at least MinDefaultInflight.
// The default is far above what the CPUs can work on at once (tokend's
// group commits carry up to 256 requests), so shedding starts only once
// requests would queue for the CPUs rather than for a commit.
func (c Config) Inflight() int {
	if c.MaxInflight > 0 {
		return int(c.MaxInflight)
	}
	return max(MinDefaultInflight, InflightPerCPU*runtime.GOMAXPROCS(0))
}

// Bounds and defaults of MaxInflight.
const (
	InflightPerCPU     = 128
	MinDefaultInflight = 256
	MaxMaxInflight     = 1 << 20
)

// TLS reports whether tokend serves HTTPS itself.
func (c Config) TLS() bool { return c.TLSCert != "" && c.TLSKey != "" }

// Default returns the default configuration. Its PublicURL is the one
// derived from its Addr.
func Default() Config {
	c := Config{
		Addr:              "127.0.0.1:8080",
		DataDir:           "./tokend-data",
		LogLevel:          "info",
		LogFormat:         "json",
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
		ShutdownTimeout:   15 * time.Second,
		RequestTimeout:    DefaultRequestTimeout,
		StaleFor:          3 * time.Minute,
		RefreshGrace:      10 * time.Second,
		PruneInterval:     10 * time.Minute,
		PruneAfter:        7 * 24 * time.Hour,
		MaxBodyBytes:      1 << 20,
		VaultAppRoleMount: "approle",
		VaultCacheTTL:     60 * time.Second,
		VaultTimeout:      5 * time.Second,
		UpstreamTimeout:   5 * time.Second,
		JWKSMaxAge:        5 * time.Minute,
		KeyRotationStage:  10 * time.Minute,

		AuditWebhookTimeout: 5 * time.Second,
		AuditSinkInterval:   2 * time.Second,
	}
	c.PublicURL, _ = derivePublicURL(c.Addr)
	return c
}

// field describes one flag-backed setting.
type field struct {
	name  string              // flag name and configuration file key
	env   string              // environment variable
	usage string              // flag help text
	ptr   func(c *Config) any // *string, *bool, *time.Duration or *int64
}

// fields lists every flag, in help order. MasterKey is deliberately absent.
var fields = []field{
	{name: "addr", usage: "address (host:port) to listen on", ptr: func(c *Config) any { return &c.Addr }},
	{name: "public-url", usage: "absolute http(s) URL clients reach tokend at (default derived from --addr: http://<host>:<port>, an unspecified host becoming localhost)", ptr: func(c *Config) any { return &c.PublicURL }},
	{name: "data", env: "TOKEND_DATA", usage: "data directory (embedded SQLite database and local state)", ptr: func(c *Config) any { return &c.DataDir }},
	{name: "database", env: EnvDatabaseURL, usage: "PostgreSQL URL (postgres://...); empty uses the embedded SQLite database in --data (env " + EnvDatabaseURL + " or " + EnvDatabaseURLFile + ")", ptr: func(c *Config) any { return &c.DatabaseURL }},
	{name: "dev", usage: "development mode: loopback only, demo tenant and credentials", ptr: func(c *Config) any { return &c.Dev }},
	{name: "log-level", usage: "log level: debug, info, warn or error", ptr: func(c *Config) any { return &c.LogLevel }},
	{name: "log-format", usage: "log format: json or text", ptr: func(c *Config) any { return &c.LogFormat }},
	{name: "read-header-timeout", usage: "time allowed to read request headers", ptr: func(c *Config) any { return &c.ReadHeaderTimeout }},
	{name: "read-timeout", usage: "time allowed to read a whole request", ptr: func(c *Config) any { return &c.ReadTimeout }},
	{name: "write-timeout", usage: "time allowed to write a response", ptr: func(c *Config) any { return &c.WriteTimeout }},
	{name: "idle-timeout", usage: "time an idle keep-alive connection is kept open", ptr: func(c *Config) any { return &c.IdleTimeout }},
	{name: "shutdown-timeout", usage: "time allowed for graceful shutdown", ptr: func(c *Config) any { return &c.ShutdownTimeout }},
	{name: "request-timeout", usage: "deadline of every request, database calls included (503 past it); below --write-timeout (default 5s or 2/3 of --write-timeout, whichever is lower)", ptr: func(c *Config) any { return &c.RequestTimeout }},
	{name: "stale-for", usage: "how long introspection and the gateway check keep answering from the last known clients, keys and revocations while the database is unreachable (0: never)", ptr: func(c *Config) any { return &c.StaleFor }},
	{name: "require-synchronous-standby", usage: "PostgreSQL only: /readyz answers 503 while the server reports no synchronous standby that commits wait for (synchronous_standby_names, synchronous_commit, pg_stat_replication), checked every 5s", ptr: func(c *Config) any { return &c.RequireSynchronousStandby }},
	{name: "refresh-grace", usage: "how long after a refresh a client that lost the response may present the spent refresh token again and get the same new one (while that is unused); any other reuse of a spent refresh token revokes its whole login", ptr: func(c *Config) any { return &c.RefreshGrace }},
	{name: "prune-interval", usage: "how often expired ledger rows, nonces, throttle rows, revocations and old change-log entries are deleted, in batches (0: never)", ptr: func(c *Config) any { return &c.PruneInterval }},
	{name: "prune-after", usage: "how long past its expiry and lifetime a ledger row is kept for listing and audit before pruning deletes it; eternal tokens are never deleted", ptr: func(c *Config) any { return &c.PruneAfter }},
	{name: "max-body-bytes", usage: "maximum request body size in bytes (at least 1024)", ptr: func(c *Config) any { return &c.MaxBodyBytes }},
	{name: "max-inflight", usage: "most requests served at once; beyond it a request waits up to 5ms for a slot, then gets 503 temporarily_unavailable with Retry-After (/healthz, /readyz, /metrics exempt; 0: 128 per CPU of GOMAXPROCS, at least 256)", ptr: func(c *Config) any { return &c.MaxInflight }},
	{name: "trusted-proxies", usage: "comma-separated CIDR prefixes of reverse proxies whose Forwarded / X-Forwarded-For headers name the client address (empty: none)", ptr: func(c *Config) any { return &c.TrustedProxies }},
	{name: "tls-cert", usage: "PEM file of the certificate chain to serve HTTPS (HTTP/2 and HTTP/1.1) with, beside --tls-key; reloaded on SIGHUP or when the file changes", ptr: func(c *Config) any { return &c.TLSCert }},
	{name: "tls-key", usage: "PEM file of the private key of --tls-cert", ptr: func(c *Config) any { return &c.TLSKey }},
	{name: "pprof-addr", usage: "loopback host:port to serve Go runtime profiles at /debug/pprof/ on, for go tool pprof (empty: off)", ptr: func(c *Config) any { return &c.PprofAddr }},
	{name: "otlp-endpoint", usage: "OTLP/HTTP URL of an OpenTelemetry collector to export traces to, e.g. http://127.0.0.1:4318 (empty: tracing off; the exporter's OTEL_EXPORTER_OTLP_* variables also apply)", ptr: func(c *Config) any { return &c.OTLPEndpoint }},
	{name: "jwks-max-age", usage: "how long verifiers may cache a tenant's JWKS (its Cache-Control max-age)", ptr: func(c *Config) any { return &c.JWKSMaxAge }},
	{name: "key-rotation-stage", usage: "how long a key rotation publishes the new key in the JWKS before it signs; more than --jwks-max-age plus the time a replica takes to see the new key (about a second, at most 5 minutes)", ptr: func(c *Config) any { return &c.KeyRotationStage }},
	{name: "surface-hosts", usage: "comma-separated host=tenant pairs: the tenant a compatible surface serves for requests sent to that host (with or without its port) that name no tenant", ptr: func(c *Config) any { return &c.SurfaceHosts }},
	{name: "surface-tenants", usage: "comma-separated surface=tenant pairs: the one tenant a compatible surface serves requests that name no tenant, when their host is not in --surface-hosts (--dev binds every surface to the demo tenant)", ptr: func(c *Config) any { return &c.SurfaceTenants }},
	{name: "vault-addr", usage: "URL of the HashiCorp Vault that holds clients' secrets (docs/vault.md); empty: no Vault", ptr: func(c *Config) any { return &c.VaultAddr }},
	{name: "vault-namespace", usage: "Vault Enterprise namespace (optional)", ptr: func(c *Config) any { return &c.VaultNamespace }},
	{name: "vault-token-file", usage: "file holding the Vault token tokend reads secrets with (or env " + EnvVaultToken + "); renewed while it is renewable", ptr: func(c *Config) any { return &c.VaultTokenFile }},
	{name: "vault-role-id-file", usage: "file holding the AppRole role_id tokend logs in to Vault with (or env " + EnvVaultRoleID + ")", ptr: func(c *Config) any { return &c.VaultRoleIDFile }},
	{name: "vault-secret-id-file", usage: "file holding the AppRole secret_id, read again at each login (or env " + EnvVaultSecretID + ")", ptr: func(c *Config) any { return &c.VaultSecretIDFile }},
	{name: "vault-approle-mount", usage: "path the AppRole auth method is mounted at", ptr: func(c *Config) any { return &c.VaultAppRoleMount }},
	{name: "vault-cache-ttl", usage: "how long a secret read from Vault is kept in memory (0: read Vault at every client authentication); it is never written anywhere", ptr: func(c *Config) any { return &c.VaultCacheTTL }},
	{name: "vault-timeout", usage: "deadline of each Vault request (503 temporarily_unavailable past it)", ptr: func(c *Config) any { return &c.VaultTimeout }},
	{name: "upstream-timeout", usage: "deadline of each request to a trusted issuer's provider (discovery, JWKS, introspection); past it the exchange answers 503 temporarily_unavailable", ptr: func(c *Config) any { return &c.UpstreamTimeout }},
	{name: "upstream-allow-insecure-loopback", usage: "fetch trusted issuers on a loopback host over plain http (--dev implies it); any other host is https only", ptr: func(c *Config) any { return &c.UpstreamInsecureLoopback }},
	{name: "dev-trust-issuer", usage: "with --dev: the demo tenant trusts this OpenID Connect issuer URL for token exchange and jwt-bearer (audience: the demo client and the tenant's issuer)", ptr: func(c *Config) any { return &c.DevTrustIssuer }},
	{name: "dev-trust-audience", usage: "with --dev-trust-issuer: comma-separated further audiences accepted from it, e.g. the provider's client id its ID tokens name", ptr: func(c *Config) any { return &c.DevTrustAudience }},
	{name: "bigcommerce-domain", usage: "domain of the BigCommerce surface's GraphQL hosts store-{hash}-{channel}.<domain> (empty: GraphQL only at /stores/{hash}/graphql)", ptr: func(c *Config) any { return &c.BigCommerceDomain }},
	{name: "audit-webhook", usage: "http(s) URL that every committed audit event is POSTed to, in NDJSON batches in chain order, signed with an HMAC (Tokend-Signature) keyed by " + EnvAuditWebhookSecret + " or --audit-webhook-secret-file; plain http only to a loopback host (empty: no webhook)", ptr: func(c *Config) any { return &c.AuditWebhook }},
	{name: "audit-webhook-secret-file", usage: "file holding the audit webhook's HMAC key, at least 16 bytes, read at start-up (or the key itself in env " + EnvAuditWebhookSecret + ")", ptr: func(c *Config) any { return &c.AuditWebhookSecretFile }},
	{name: "audit-webhook-timeout", usage: "deadline of each audit webhook delivery; past it the batch is sent again", ptr: func(c *Config) any { return &c.AuditWebhookTimeout }},
	{name: "audit-syslog", usage: "where every committed audit event is sent as an RFC 5424 syslog message: udp://host:port, tcp://host:port (octet-counted) or unix:///dev/log (datagram; unixstream:///path for a stream socket) (empty: no syslog)", ptr: func(c *Config) any { return &c.AuditSyslog }},
	{name: "audit-sink-interval", usage: "how often the audit webhook and syslog sinks look for events another replica recorded (this replica's own wake them at once)", ptr: func(c *Config) any { return &c.AuditSinkInterval }},
	{name: "config", env: EnvConfig, usage: "optional JSON configuration file whose keys are flag names", ptr: func(c *Config) any { return &c.ConfigFile }},
}

func init() {
	for i := range fields {
		if fields[i].env == "" {
			fields[i].env = envName(fields[i].name)
		}
	}
}

// envName returns TOKEND_ followed by the flag name upper-cased, with dashes
// turned into underscores.
func envName(flag string) string {
	return "TOKEND_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// RegisterFlags registers the configuration flags on fs, with help text
// and the defaults of Default: every one, or only those named in only (for
// commands that use a few; the environment and the configuration file
// still set the others). The master key has no flag.
func RegisterFlags(fs *pflag.FlagSet, only ...string) {
	d := Default()
	for _, f := range fields {
		if len(only) > 0 && !slices.Contains(only, f.name) {
			continue
		}
		usage := f.usage + " (env " + f.env + ")"
		if f.name == "database" {
			usage = f.usage
		}
		switch p := f.ptr(&d).(type) {
		case *string:
			def := *p
			if f.name == "public-url" {
				def = "" // derived from --addr unless set
			}
			fs.String(f.name, def, usage)
		case *bool:
			fs.Bool(f.name, *p, usage)
		case *time.Duration:
			fs.Duration(f.name, *p, usage)
		case *int64:
			fs.Int64(f.name, *p, usage)
		}
	}
}

// Load merges, highest precedence first, the flags explicitly set on fs,
// the environment environ (as from os.Environ), the JSON file named by
// --config or TOKEND_CONFIG, and Default; reads the master key from
// TOKEND_MASTER_KEY or TOKEND_MASTER_KEY_FILE; derives PublicURL from Addr
// when it is not set; and validates the result. Every problem found is
// reported in the one returned error. fs may be nil or lack some flags.
func Load(fs *pflag.FlagSet, environ []string) (Config, error) {
	env := parseEnviron(environ)
	cfg := Default()
	cfg.PublicURL = ""
	cfg.RequestTimeout = unsetDuration
	var errs []error

	// The configuration file's own location: flag, then environment.
	if v, ok := changedFlag(fs, "config"); ok {
		cfg.ConfigFile = v
	} else if v := env[EnvConfig]; v != "" {
		cfg.ConfigFile = v
	}
	if cfg.ConfigFile != "" {
		errs = append(errs, applyFile(&cfg, cfg.ConfigFile)...)
	}

	if env["TOKEND_DATABASE"] != "" {
		errs = append(errs, fmt.Errorf("TOKEND_DATABASE is not read: set %s (or %s) instead", EnvDatabaseURL, EnvDatabaseURLFile))
	}
	for _, f := range fields {
		if f.name == "config" {
			continue
		}
		v, ok, err := envValue(env, f.env, f.name == "database")
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if !ok {
			continue
		}
		if err := set(f.ptr(&cfg), v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.env, err))
		}
	}

	for _, f := range fields {
		v, ok := changedFlag(fs, f.name)
		if !ok || f.name == "config" {
			continue
		}
		if err := set(f.ptr(&cfg), v); err != nil {
			errs = append(errs, fmt.Errorf("--%s: %w", f.name, err))
		}
	}

	cfg.VaultToken, cfg.VaultRoleID, cfg.VaultSecretID = env[EnvVaultToken], env[EnvVaultRoleID], env[EnvVaultSecretID]

	if sec, ok, err := envValue(env, EnvAuditWebhookSecret, false); err != nil {
		errs = append(errs, err)
	} else if ok {
		cfg.AuditWebhookSecret = sec
	}

	mk, ok, err := envValue(env, EnvMasterKey, true)
	if err != nil {
		errs = append(errs, err)
	} else if ok {
		cfg.MasterKey = mk
	}

	if cfg.RequestTimeout == unsetDuration {
		cfg.RequestTimeout = min(DefaultRequestTimeout, cfg.WriteTimeout*2/3)
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL, _ = derivePublicURL(cfg.Addr) // a bad Addr is reported by Validate
		if cfg.TLS() {
			cfg.PublicURL = "https" + strings.TrimPrefix(cfg.PublicURL, "http")
		}
	} else {
		cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	}

	if err := cfg.Validate(); err != nil {
		errs = append(errs, err)
	}
	return cfg, errors.Join(errs...)
}

// Validate reports every problem with c at once, one "field: problem" error
// per problem, joined with errors.Join; it returns nil when c is usable.
func (c Config) Validate() error {
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	addrOK := true
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		addrOK = false
		add("addr", "%q is not host:port: %v", c.Addr, err)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		addrOK = false
		add("addr", "%q has an invalid port %q (want a number from 0 to 65535)", c.Addr, port)
	}

	switch {
	case c.PublicURL == "":
		if addrOK {
			add("public-url", "must not be empty")
		}
	default:
		if msg := checkPublicURL(c.PublicURL); msg != "" {
			add("public-url", "%q %s", c.PublicURL, msg)
		}
	}

	if strings.TrimSpace(c.DataDir) == "" {
		add("data", "must not be empty")
	}
	if c.DatabaseURL != "" {
		lower := strings.ToLower(c.DatabaseURL)
		if !strings.HasPrefix(lower, "postgres://") && !strings.HasPrefix(lower, "postgresql://") {
			// The URL itself is not echoed: it may hold a password.
			add("database", "URL must start with postgres:// or postgresql://")
		}
	}

	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		add("log-level", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text":
	default:
		add("log-format", "%q is not one of json, text", c.LogFormat)
	}

	for _, t := range []struct {
		name string
		d    time.Duration
	}{
		{"read-header-timeout", c.ReadHeaderTimeout},
		{"read-timeout", c.ReadTimeout},
		{"write-timeout", c.WriteTimeout},
		{"idle-timeout", c.IdleTimeout},
		{"shutdown-timeout", c.ShutdownTimeout},
		{"refresh-grace", c.RefreshGrace},
		{"request-timeout", c.RequestTimeout},
		{"upstream-timeout", c.UpstreamTimeout},
	} {
		if t.d <= 0 {
			add(t.name, "must be positive, got %s", t.d)
		}
	}
	if c.RequestTimeout > 0 && c.WriteTimeout > 0 && c.RequestTimeout >= c.WriteTimeout {
		// The answer must be written before the connection's write deadline.
		add("request-timeout", "must be below write-timeout (%s), got %s", c.WriteTimeout, c.RequestTimeout)
	}
	if c.DevTrustIssuer != "" && !c.Dev {
		add("dev-trust-issuer", "only with --dev")
	}
	if c.RequireSynchronousStandby && c.DatabaseURL == "" {
		add("require-synchronous-standby", "needs a PostgreSQL database (--database): the embedded SQLite database has no standby")
	}
	if c.StaleFor < 0 {
		add("stale-for", "must not be negative, got %s", c.StaleFor)
	}
	if c.PruneInterval < 0 {
		add("prune-interval", "must not be negative, got %s", c.PruneInterval)
	}
	if c.PruneAfter < 0 {
		add("prune-after", "must not be negative, got %s", c.PruneAfter)
	}
	if c.MaxInflight < 0 || c.MaxInflight > MaxMaxInflight {
		add("max-inflight", "must be 0 (the default) to %d, got %d", MaxMaxInflight, c.MaxInflight)
	}
	if c.MaxBodyBytes < MinMaxBodyBytes {
		add("max-body-bytes", "must be at least %d, got %d", MinMaxBodyBytes, c.MaxBodyBytes)
	}
	if _, err := ParsePrefixes(c.TrustedProxies); err != nil {
		add("trusted-proxies", "%v", err)
	}
	if c.JWKSMaxAge < time.Second {
		add("jwks-max-age", "must be at least 1s, got %s", c.JWKSMaxAge)
	}
	if c.KeyRotationStage <= c.JWKSMaxAge {
		add("key-rotation-stage", "must exceed jwks-max-age (%s), or verifiers with a cached JWKS would meet the new key before they fetch it; got %s", c.JWKSMaxAge, c.KeyRotationStage)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		add("tls-cert", "--tls-cert and --tls-key go together: set both or neither")
	}
	if c.PprofAddr != "" {
		if msg := checkLoopback(c.PprofAddr); msg != "" {
			add("pprof-addr", "%q %s", c.PprofAddr, msg)
		}
	}
	if _, err := ParsePairs(c.SurfaceHosts); err != nil {
		add("surface-hosts", "%v", err)
	}
	if _, err := ParsePairs(c.SurfaceTenants); err != nil {
		add("surface-tenants", "%v", err)
	}
	c.validateVault(add)
	c.validateAuditSinks(add)
	return errors.Join(errs...)
}

// validateAuditSinks checks the audit webhook and syslog settings.
func (c Config) validateAuditSinks(add func(field, format string, args ...any)) {
	if c.AuditSinkInterval <= 0 {
		add("audit-sink-interval", "must be positive, got %s", c.AuditSinkInterval)
	}
	if c.AuditWebhookTimeout <= 0 {
		add("audit-webhook-timeout", "must be positive, got %s", c.AuditWebhookTimeout)
	}
	if c.AuditWebhook == "" {
		if c.AuditWebhookSecretFile != "" {
			add("audit-webhook-secret-file", "only with --audit-webhook")
		}
	} else {
		if msg := checkWebhookURL(c.AuditWebhook); msg != "" {
			add("audit-webhook", "%s", msg)
		}
		switch {
		case c.AuditWebhookSecret != "" && c.AuditWebhookSecretFile != "":
			add("audit-webhook-secret-file", "give the key in %s or in --audit-webhook-secret-file, not both", EnvAuditWebhookSecret)
		case c.AuditWebhookSecret == "" && c.AuditWebhookSecretFile == "":
			add("audit-webhook", "needs an HMAC key: %s or --audit-webhook-secret-file (%s_FILE)", EnvAuditWebhookSecret, EnvAuditWebhookSecret)
		case c.AuditWebhookSecret != "" && len(c.AuditWebhookSecret) < MinAuditWebhookSecret:
			add("audit-webhook", "the HMAC key in %s must be at least %d bytes, got %d", EnvAuditWebhookSecret, MinAuditWebhookSecret, len(c.AuditWebhookSecret))
		}
	}
	if c.AuditSyslog != "" {
		if _, _, err := ParseSyslog(c.AuditSyslog); err != nil {
			add("audit-syslog", "%v", err)
		}
	}
}

// checkWebhookURL returns what is wrong with an audit webhook URL, or "".
// The URL itself is not echoed: it may hold a token.
func checkWebhookURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http:// or https:// URL"
	case u.Hostname() == "":
		return "has no host"
	case u.User != nil:
		return "must not contain user information (the batches are signed instead)"
	case u.Fragment != "":
		return "must not have a fragment"
	case u.Scheme == "http" && !loopbackHost(u.Hostname()):
		return "plain http only to a loopback host (127.0.0.1, ::1, localhost); use https"
	}
	return ""
}

func loopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// ParseSyslog parses an --audit-syslog target into the network and
// address net.Dial takes: udp://host:port and tcp://host:port (port
// required), unix:///path (a datagram socket, "unixgram") and
// unixstream:///path (a stream socket, "unix").
func ParseSyslog(s string) (network, address string, err error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return "", "", fmt.Errorf("%q is not udp://host:port, tcp://host:port, unix:///path or unixstream:///path", s)
	}
	switch scheme {
	case "udp", "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil || host == "" {
			return "", "", fmt.Errorf("%q: want %s://host:port", s, scheme)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return "", "", fmt.Errorf("%q has an invalid port %q", s, port)
		}
		return scheme, rest, nil
	case "unix", "unixstream":
		if !strings.HasPrefix(rest, "/") {
			return "", "", fmt.Errorf("%q: want %s:///absolute/path", s, scheme)
		}
		if scheme == "unix" {
			return "unixgram", rest, nil
		}
		return "unix", rest, nil
	}
	return "", "", fmt.Errorf("%q: scheme %q is not udp, tcp, unix or unixstream", s, scheme)
}

// validateVault checks the Vault settings: a URL, and exactly one way to
// log in, complete.
func (c Config) validateVault(add func(field, format string, args ...any)) {
	if c.VaultCacheTTL < 0 {
		add("vault-cache-ttl", "must not be negative, got %s", c.VaultCacheTTL)
	}
	if c.VaultTimeout <= 0 {
		add("vault-timeout", "must be positive, got %s", c.VaultTimeout)
	}
	token := c.VaultToken != "" || c.VaultTokenFile != ""
	if c.VaultAddr == "" {
		if token || c.VaultAppRole() {
			// VAULT_TOKEN alone may be set for other tools; only the flags
			// tell that Vault was meant for tokend.
			if c.VaultTokenFile != "" || c.VaultRoleIDFile != "" || c.VaultSecretIDFile != "" {
				add("vault-addr", "is required with the other --vault-* settings")
			}
		}
		return
	}
	u, err := url.Parse(c.VaultAddr)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add("vault-addr", "%q is not an http(s) URL", c.VaultAddr)
	}
	switch {
	case c.VaultAppRole():
		if c.VaultRoleID == "" && c.VaultRoleIDFile == "" {
			add("vault-role-id-file", "AppRole needs a role_id: --vault-role-id-file or %s", EnvVaultRoleID)
		}
		if c.VaultSecretID == "" && c.VaultSecretIDFile == "" {
			add("vault-secret-id-file", "AppRole needs a secret_id: --vault-secret-id-file or %s", EnvVaultSecretID)
		}
		if c.VaultTokenFile != "" {
			add("vault-token-file", "give a token or AppRole credentials, not both")
		}
		if c.VaultAppRoleMount == "" {
			add("vault-approle-mount", "must not be empty")
		}
	case !token:
		add("vault-addr", "Vault needs credentials: --vault-token-file (or %s), or --vault-role-id-file and --vault-secret-id-file", EnvVaultToken)
	}
}

// Proxies returns TrustedProxies parsed; nil when it is empty or invalid
// (Validate reports the latter).
func (c Config) Proxies() []netip.Prefix {
	p, _ := ParsePrefixes(c.TrustedProxies)
	return p
}

// ParsePrefixes parses a comma-separated list of CIDR prefixes; a bare
// address is the prefix of that one address. Blank entries are skipped.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			if p.Addr().Is4In6() && p.Bits() >= 96 {
				p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("%q is not a CIDR prefix or an IP address", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// checkPublicURL returns what is wrong with a public URL, or "".
func checkPublicURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "is not a URL: " + err.Error()
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be an absolute http:// or https:// URL"
	case u.Host == "" || u.Hostname() == "":
		return "has no host"
	case u.User != nil:
		return "must not contain user information"
	case u.RawQuery != "" || u.ForceQuery:
		return "must not have a query"
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "must not have a fragment"
	}
	return ""
}

// derivePublicURL returns "http://host:port" for a listen address, an
// empty or unspecified host becoming localhost.
func derivePublicURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// parseEnviron turns KEY=VALUE pairs into a map; later pairs win.
func parseEnviron(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// envValue returns the value of the environment variable name, empty
// meaning unset. When withFile is true, name_FILE may name a file holding
// the value instead (trimmed of surrounding whitespace); setting both is an
// error.
func envValue(env map[string]string, name string, withFile bool) (string, bool, error) {
	v := env[name]
	if !withFile {
		return v, v != "", nil
	}
	fileVar := name + "_FILE"
	path := env[fileVar]
	switch {
	case path == "":
		return v, v != "", nil
	case v != "":
		return "", false, fmt.Errorf("%s and %s are both set; set only one", name, fileVar)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", fileVar, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", false, fmt.Errorf("%s: file %s is empty", fileVar, path)
	}
	return s, true, nil
}

// changedFlag returns the value of flag name when it was set explicitly.
func changedFlag(fs *pflag.FlagSet, name string) (string, bool) {
	if fs == nil {
		return "", false
	}
	f := fs.Lookup(name)
	if f == nil || !f.Changed {
		return "", false
	}
	return f.Value.String(), true
}

// set parses s into the field p points to.
func set(p any, s string) error {
	switch p := p.(type) {
	case *string:
		*p = s
	case *bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("invalid boolean %q", s)
		}
		*p = b
	case *time.Duration:
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("invalid duration %q (want e.g. \"15s\")", s)
		}
		*p = d
	case *int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", s)
		}
		*p = n
	default:
		return fmt.Errorf("unsupported setting type %T", p)
	}
	return nil
}

// applyFile reads the JSON configuration file at path into c.
func applyFile(c *Config, path string) []error {
	b, err := os.ReadFile(path)
	if err != nil {
		return []error{fmt.Errorf("config file: %w", err)}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&raw); err != nil {
		return []error{fmt.Errorf("config file %s: not a JSON object: %w", path, err)}
	}
	if dec.More() {
		return []error{fmt.Errorf("config file %s: unexpected data after the JSON object", path)}
	}
	if raw == nil {
		return []error{fmt.Errorf("config file %s: not a JSON object", path)}
	}

	byName := make(map[string]field, len(fields))
	for _, f := range fields {
		byName[f.name] = f
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var errs []error
	for _, k := range keys {
		f, ok := byName[k]
		switch {
		case k == "master-key":
			errs = append(errs, fmt.Errorf("config file %s: key %q is not allowed: the master key comes only from %s or %s", path, k, EnvMasterKey, EnvMasterKeyFile))
			continue
		case k == "config":
			errs = append(errs, fmt.Errorf("config file %s: key %q is not allowed: a configuration file cannot name another", path, k))
			continue
		case !ok:
			errs = append(errs, fmt.Errorf("config file %s: unknown key %q", path, k))
			continue
		}
		if err := setJSON(f.ptr(c), raw[k]); err != nil {
			errs = append(errs, fmt.Errorf("config file %s: key %q: %w", path, k, err))
		}
	}
	return errs
}

// setJSON stores a JSON value into the field p points to. Strings are
// accepted for every type; booleans for bool fields and numbers for integer
// fields as well.
func setJSON(p any, raw json.RawMessage) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	switch v := v.(type) {
	case string:
		return set(p, v)
	case bool:
		if _, ok := p.(*bool); ok {
			return set(p, strconv.FormatBool(v))
		}
	case json.Number:
		if _, ok := p.(*int64); ok {
			return set(p, v.String())
		}
	}
	switch p.(type) {
	case *string:
		return errors.New("must be a JSON string")
	case *bool:
		return errors.New("must be true or false")
	case *time.Duration:
		return errors.New(`must be a duration string such as "15s"`)
	case *int64:
		return errors.New("must be an integer")
	}
	return fmt.Errorf("unsupported setting type %T", p)
}

// ParsePairs parses a comma-separated list of name=value pairs, as
// --surface-hosts and --surface-tenants take them. Blank entries are
// skipped; a name given twice, or an entry without "=" or with an empty
// side, is an error.
func ParsePairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not name=value", f)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("%q is given twice", k)
		}
		out[k] = v
	}
	return out, nil
}

// checkLoopback returns why addr is not a loopback host:port with a
// numeric port ("" if it is): the profiles say much about the server and
// are served to no one else.
func checkLoopback(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("is not host:port: %v", err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Sprintf("has an invalid port %q", port)
	}
	if host == "localhost" {
		return ""
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return "is not a loopback address (127.0.0.0/8, ::1 or localhost)"
	}
	return ""
}
