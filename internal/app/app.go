package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/admin"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/auditsink"
	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/buildinfo"
	"github.com/tokend/tokend/internal/changes"
	"github.com/tokend/tokend/internal/compat/apstrata"
	"github.com/tokend/tokend/internal/compat/bigcommerce"
	"github.com/tokend/tokend/internal/compat/dotkernel"
	"github.com/tokend/tokend/internal/compat/storetoken"
	"github.com/tokend/tokend/internal/compat/tenantauth"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/exchange"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/gateway"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/oauth"
	"github.com/tokend/tokend/internal/openapi"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/secrets/vault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/postgres"
	"github.com/tokend/tokend/internal/store/sqlite"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/tokenapi"
	"github.com/tokend/tokend/internal/tracing/httptrace"
	"github.com/tokend/tokend/internal/upstream/oidc"
)

// certPoll is how often the TLS certificate files are checked for change.
const certPoll = 2 * time.Second

// App is a composed tokend server.
type App struct {
	// traceStop flushes and stops span export (tracing.Start).
	traceStop func(context.Context) error
	cfg       config.Config
	log       *slog.Logger
	st        store.Store
	keys      *keys.Manager
	audit     *audit.Recorder
	issuer    *issue.Issuer
	mint      *mint.Minter
	dir       *directory.Service
	verifier  *introspect.Verifier
	ledger    *ledger.Writer
	engine    *grant.Engine
	upstream  *oidc.Pool
	xchg      *exchange.Checker
	authn     *authn.Authenticator
	// tokenDir caches the tenant data the token paths read (users, roles,
	// groups, projects); a.authn.Invalidate drops its records.
	tokenDir *authn.Directory
	revoke   *revoke.Service
	binding  *binding.Resolver
	pruner   *pruner
	registry *prometheus.Registry
	handler  http.Handler
	// routes records every pattern registered on the server's mux.
	routes *httpx.Routes
	ready  atomic.Bool
	// stopping is closed when shutdown starts, to end event streams.
	stopping chan struct{}
	pg       *postgres.DB
	writes   writeHealth
	// replication, with --require-synchronous-standby, is why the server
	// has no synchronous standby ("" when it has one); see watchStandby.
	replication atomic.Pointer[string]
	// rewind, once set, is why this replica must restart (see rewound).
	rewind atomic.Pointer[string]
	// certs, when set, is the certificate Serve serves HTTPS with.
	certs *httpx.Certs
	// startSync is when the revocations were first loaded; follower, once
	// running, says how current they are since.
	startSync time.Time
	follower  atomic.Pointer[changes.Follower]
	// vault, when --vault-addr is set, reads clients' secrets from Vault.
	vault *vault.Resolver
	// sinks forward committed audit events (--audit-webhook,
	// --audit-syslog); sinkRuns counts their running goroutines.
	sinks    []*auditsink.Forwarder
	sinkRuns sync.WaitGroup
}

// OpenStore opens the configured database: PostgreSQL when a database URL
// is set, else SQLite in the data directory (created with mode 0700).
func OpenStore(ctx context.Context, cfg config.Config) (Migrator, error) {
	if cfg.DatabaseURL != "" {
		return postgres.OpenWith(ctx, cfg.DatabaseURL, postgres.Options{Timeout: cfg.RequestTimeout})
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	// Half the request's time for another process's lock, so that a
	// request queued behind a commit waiting for it still gets its answer
	// in time.
	return sqlite.OpenWith(ctx, filepath.Join(cfg.DataDir, "tokend.db"), sqlite.Options{BusyTimeout: cfg.RequestTimeout / 2})
}

// Migrator is a store that can apply its schema migrations.
type Migrator interface {
	store.Store
	Migrate(ctx context.Context) ([]int, error)
}

// New opens the store, applies migrations and builds every service.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*App, error) {
	var certs *httpx.Certs
	if cfg.TLS() {
		var err error
		if certs, err = httpx.LoadCerts(cfg.TLSCert, cfg.TLSKey, log); err != nil {
			return nil, err
		}
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if cfg.MasterKey == "" {
		// The master key file lives in the data directory, whatever the database.
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			st.Close()
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	master, err := keys.LoadMaster(cfg.MasterKey, cfg.DataDir)
	if err != nil {
		st.Close()
		return nil, err
	}
	a, err := build(cfg, log, st, master)
	if err != nil {
		st.Close()
		return nil, err
	}
	if a.traceStop, err = httptrace.Start(ctx, cfg.OTLPEndpoint, buildinfo.Get().Version); err != nil {
		a.Close()
		return nil, err
	}
	if pg, ok := st.(*postgres.DB); ok {
		a.pg = pg
	}
	a.certs = certs
	return a, nil
}

func build(cfg config.Config, log *slog.Logger, st store.Store, master []byte) (*App, error) {
	a := &App{cfg: cfg, log: log, st: st}
	issuerOf := func(t string) string { return tenant.Issuer(cfg.PublicURL, t) }
	var err error
	a.keys, err = keys.New(keys.Options{Store: st, Master: master, Issuer: issuerOf, StaleFor: cfg.StaleFor})
	if err != nil {
		return nil, err
	}
	checkpointKey, err := a.keys.DeriveKey("audit-checkpoint")
	if err != nil {
		return nil, err
	}
	checkpoints := audit.Checkpoints{Key: checkpointKey}
	a.audit = audit.New(st, log, nil)
	a.registry = prometheus.NewRegistry()
	metricsOf := commitMetrics(a.registry)
	a.ledger = ledger.New(ledger.Options{Store: st, Seal: audit.Seal, Log: log, Timeout: cfg.RequestTimeout,
		Observe: func(c ledger.Commit) { metricsOf(c); a.writes.observe(c) }})
	a.audit.SetWriter(a.ledger)
	a.issuer, err = issue.New(issue.Options{Store: st, Signer: a.keys, Audit: a.audit, Ledger: a.ledger, PublicURL: cfg.PublicURL})
	if err != nil {
		return nil, err
	}
	a.revoke, err = revoke.New(revoke.Options{Store: st, Audit: a.audit, Log: log})
	if err != nil {
		return nil, err
	}
	a.startSync = time.Now()
	if err := a.revoke.Sync(context.Background()); err != nil {
		return nil, fmt.Errorf("load revocations: %w", err)
	}
	a.dir, err = directory.New(directory.Options{Store: st, Keys: a.keys, Audit: a.audit, Revoker: a.revoke, Log: log,
		GrantTypes: func() []string { return a.engine.GrantTypes() },
		Changed: func(c store.Change) {
			a.binding.Invalidate(c)
			if a.xchg != nil {
				a.xchg.Invalidate(c)
			}
			if a.authn != nil {
				a.authn.Invalidate(c)
			}
			if c.Entity == store.EntityTenant && a.verifier != nil {
				a.verifier.Invalidate(c.Tenant)
			}
		}, RotationStage: cfg.KeyRotationStage, Checkpoints: checkpoints})
	if err != nil {
		return nil, err
	}
	a.binding, err = newBinding(cfg, st)
	if err != nil {
		return nil, err
	}
	a.tokenDir = authn.NewDirectory(st, cfg.StaleFor)
	a.verifier, err = introspect.New(introspect.Options{Store: st, Keys: a.keys, Peek: keys.PeekIssuer, Revocations: a.revoke,
		PublicURL: cfg.PublicURL, Current: a.revocationsCurrent, Users: a.tokenDir})
	if err != nil {
		return nil, err
	}
	a.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildInfo())
	metrics := httpx.NewMetrics(a.registry)
	a.observe(st)
	a.pruner = newPruner(st, a.revoke, checkpoints, log, cfg.PruneAfter, a.registry)
	if err := a.newAuditSinks(cfg, st); err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	a.routes = httpx.NewRoutes(mux)
	refreshKey, err := a.keys.DeriveKey("refresh-successor")
	if err != nil {
		return nil, err
	}
	refs, err := a.secretResolver(st)
	if err != nil {
		return nil, err
	}
	a.authn, err = authn.New(authn.Options{Store: st, Audit: a.audit, Log: log, PublicURL: cfg.PublicURL, Secrets: a.dir,
		StaleFor: cfg.StaleFor, SecretCheck: a.secretChecks(), Signers: a.dir, Legacy: a.dir, Tokens: a.verifier,
		SecretRefs: refs, Directory: a.tokenDir})
	if err != nil {
		return nil, err
	}
	xchg, err := a.newExchange(cfg)
	if err != nil {
		return nil, err
	}
	a.engine, err = grant.New(grant.Options{Store: st, Issuer: a.issuer, Audit: a.audit, Revoke: a.revoke, Log: log,
		RefreshGrace: cfg.RefreshGrace, RefreshKey: refreshKey, Authn: a.authn, Exchange: xchg})
	if err != nil {
		return nil, err
	}
	clients := func(ctx context.Context, ten, id, secret string) (store.Client, error) {
		c, err := a.authn.Client(ctx, ten, &authn.Credentials{ID: id, Secret: secret, Method: "client_secret_post"})
		if err == nil && !c.Confidential() {
			return store.Client{}, fault.InvalidClient("a public client has no secret_id")
		}
		return c, err
	}
	minter, err := mint.New(mint.Options{Store: st, Audit: a.audit, Issuer: a.issuer, Revoker: a.revoke, Login: a.engine, Verifier: a.verifier, Clients: clients, Directory: a.tokenDir, Known: a.authn})
	if err != nil {
		return nil, err
	}
	a.mint = minter
	admin.New(a.dir, minter, a.verifier, cfg.PublicURL, cfg.MaxBodyBytes, log).Register(a.routes.Part(PartAdmin))
	a.stopping = make(chan struct{})
	rfc, err := oauth.New(oauth.Options{Engine: a.engine, Mint: minter, Verifier: a.verifier, Revoke: a.revoke,
		Tenants: st.Tenants(), Keys: a.keys, PublicURL: cfg.PublicURL, MaxBody: cfg.MaxBodyBytes, JWKSMaxAge: cfg.JWKSMaxAge, Log: log})
	if err != nil {
		return nil, err
	}
	// Seed 001: BigCommerce storefront tokens and GraphQL Storefront.
	bc, err := bigcommerce.New(bigcommerce.Options{Mint: minter, Verifier: a.verifier, Binding: a.binding, Authn: a.authn,
		Domain: cfg.BigCommerceDomain, MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	accounts := apstrataAccounts{a.binding}
	gw, err := gateway.New(gateway.Options{Engine: a.engine, Verifier: a.verifier, Revoke: a.revoke,
		Stopping: a.stopping, Log: log, Dialects: []gateway.Dialect{bc}, Legacy: &gateway.Legacy{Authn: a.authn, Revoke: a.revoke, PlainHTTP: a.apstrataPlainHTTP,
			Account: func(ctx context.Context, key string) (string, error) {
				ten, _, err := accounts.Account(ctx, key)
				return ten, err
			}}})
	if err != nil {
		return nil, err
	}
	api, err := tokenapi.New(tokenapi.Options{Mint: minter, Verifier: a.verifier, Authn: a.authn,
		PublicURL: cfg.PublicURL, MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	aps, err := apstrata.New(apstrata.Options{Accounts: accounts, Authn: a.authn, Mint: minter, Revoke: a.revoke,
		PublicURL: cfg.PublicURL, Secure: a.apstrataSecure, MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	aps.Register(a.routes.Part("apstrata"))
	dk, err := dotkernel.New(dotkernel.Options{Engine: a.engine, Verifier: a.verifier, Authn: a.authn, Bindings: a.binding,
		MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	dk.Register(a.routes.Part("dotkernel"))
	// One mux for every surface: it refuses conflicting patterns, so the
	// surfaces' routes are disjoint or the server does not start.
	rfc.Register(a.routes.Part(PartOAuth))
	gw.Register(a.routes.Part(PartGateway))
	api.Register(a.routes.Part(PartTokenAPI))
	// Seed 000: Rails/Knock store tokens (POST /stores/{id}/generate_token).
	stk, err := storetoken.New(storetoken.Options{Mint: minter, Binding: a.binding, MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	stk.Register(a.routes.Part("storetoken"))
	// Seed 002: AuthSec Auth Manager tenant tokens (/auth/*/generateToken).
	ta, err := tenantauth.New(tenantauth.Options{Mint: minter, Verifier: a.verifier, Engine: a.engine, Binding: a.binding, MaxBody: cfg.MaxBodyBytes, Log: log})
	if err != nil {
		return nil, err
	}
	ta.Register(a.routes.Part("tenantauth"))
	bc.Register(a.routes.Part("bigcommerce"))
	srv := a.routes.Part(PartServer)
	srv.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	srv.HandleFunc("GET /readyz", a.readyz)
	srv.Handle("GET /openapi.json", openapi.Handler(openapi.Native))
	srv.Handle("GET /metrics", promhttp.HandlerFor(a.registry, promhttp.HandlerOpts{}))
	cors := httpx.CORS{Log: log, Origins: func(ctx context.Context, id string) ([]string, error) {
		t, err := a.authn.Tenant(ctx, id)
		return t.Policy.CORSOrigins, err
	}}
	// Admission sheds what the server cannot work on (503 + Retry-After)
	// before anything is read or written for it; health, readiness and
	// metrics stay reachable while it does.
	adm := httpx.Admission{Limit: cfg.Inflight(), Exempt: httpx.ExemptOps, Shed: httpx.NewShedCounter(a.registry), Log: log}
	a.handler = httpx.Forwarded(httpx.Wrap(adm.Wrap(cors.Wrap(httpx.JSONMux(mux, log))), log, metrics, cfg.MaxBodyBytes, a.requestTimeout), cfg.Proxies())
	return a, nil
}

// requestTimeout is a request's deadline: Config.RequestTimeout, but for
// the revocation feed, whose long polls wait up to gateway.MaxFeedWait on
// top, and whose event streams bound each of their steps themselves, and
// for the audit export, which bounds each page it reads and writes.
func (a *App) requestTimeout(r *http.Request) time.Duration {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/tenants/") && strings.HasSuffix(r.URL.Path, "/audit/export") {
		return 0
	}
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/t/") && strings.HasSuffix(r.URL.Path, "/revocations") {
		if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
			return 0
		}
		return a.cfg.RequestTimeout + gateway.MaxFeedWait
	}
	return a.cfg.RequestTimeout
}

// The parts of the server whose routes make up the native API, described
// by openapi.Native; every other part is a compatible surface, named as
// its package and described by openapi.Compat.
const (
	PartAdmin    = "admin"
	PartOAuth    = "oauth"
	PartGateway  = "gateway"
	PartTokenAPI = "tokenapi"
	PartServer   = "server"
)

// Routes returns every route registered on the server's mux, in
// registration order, each with the part that registered it.
func (a *App) Routes() []httpx.Route { return a.routes.List() }

// Handler returns the server's root handler.
func (a *App) Handler() http.Handler { return a.handler }

// Store returns the app's store.
func (a *App) Store() store.Store { return a.st }

// Directory returns the directory core.
func (a *App) Directory() *directory.Service { return a.dir }

// readyz reports ready once start-up finished, the database answers, no
// write failed for the storage's sake lately (since the last one that
// succeeded) and the signing keys open (keys load lazily per tenant, so
// they are checked on the system tenant when it exists).
func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	problems := map[string]string{}
	if !a.ready.Load() {
		problems["server"] = "starting"
	}
	if p := a.writes.problem(); p != "" {
		problems["writes"] = p
	}
	if p := a.rewind.Load(); p != nil {
		problems["changes"] = *p
	}
	if a.cfg.RequireSynchronousStandby {
		if p := a.replication.Load(); p == nil {
			problems["replication"] = "synchronous standby not checked yet"
		} else if *p != "" {
			problems["replication"] = *p
		}
	}
	if err := a.st.Ping(ctx); err != nil {
		problems["database"] = "unreachable"
	} else if _, _, err := a.keys.JWKS(ctx, claims.SystemTenant); err != nil {
		// Keys load lazily; the system tenant's prove the master key opens them.
		problems["keys"] = "signing keys cannot be loaded"
	}
	if len(problems) > 0 {
		httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "problems": problems})
		return
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Serve runs the HTTP server on ln until ctx is done, then shuts down
// gracefully within the configured time.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		ReadTimeout:       a.cfg.ReadTimeout,
		WriteTimeout:      a.cfg.WriteTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	if a.cfg.PprofAddr != "" {
		addr, err := a.servePprof(bg, a.cfg.PprofAddr)
		if err != nil {
			return fmt.Errorf("pprof-addr: %w", err)
		}
		a.log.Info("serving runtime profiles", "addr", addr.String(), "path", "/debug/pprof/")
	}
	a.startBackground(bg)
	errc := make(chan error, 1)
	if a.certs != nil {
		// ServeTLS offers HTTP/2 and HTTP/1.1 by ALPN.
		srv.TLSConfig = a.certs.Config()
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go a.certs.Watch(bg, certPoll, hup)
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	a.ready.Store(true)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.ready.Store(false)
	close(a.stopping)
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close writes the counted failed authentications, commits queued ledger
// writes and releases the store.
func (a *App) Close() error {
	if a.traceStop != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = a.traceStop(ctx)
		cancel()
	}
	_ = a.audit.FlushFailures(context.Background(), true)
	a.ledger.Close()
	a.sinkRuns.Wait()
	if a.vault != nil {
		a.vault.Close()
	}
	return a.st.Close()
}

// IsLoopback reports whether addr's host is a loopback address (or
// "localhost").
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// commitMetrics registers the ledger's group-commit metrics and returns
// the observer that feeds them.
func commitMetrics(reg prometheus.Registerer) func(ledger.Commit) {
	seconds := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "tokend_ledger_commit_seconds",
		Help:    "Group commits of ledger rows and audit events by outcome (ok, error), sync included.",
		Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .02, .05, .1, .25, 1},
	}, []string{"outcome"})
	size := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "tokend_ledger_commit_requests", Help: "Requests (issuances, refreshes, audit writes) per group commit.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 9),
	})
	reg.MustRegister(seconds, size)
	ok, failed := seconds.WithLabelValues("ok"), seconds.WithLabelValues("error")
	return func(c ledger.Commit) {
		size.Observe(float64(c.Requests))
		if c.Err != nil {
			failed.Observe(c.Duration.Seconds())
			return
		}
		ok.Observe(c.Duration.Seconds())
	}
}

// observe registers tokend's own metrics: every audited event by action and
// outcome (issuances, refreshes, revocations, failed authentications),
// issued tokens by kind, the deny-list size and the database pool.
func (a *App) observe(st store.Store) {
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_events_total", Help: "Audited events by action (token.issue, token.revoke, auth.client, ...) and outcome.",
	}, []string{"action", "outcome"})
	issued := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_tokens_issued_total", Help: "Issued tokens by kind.",
	}, []string{"kind"})
	// Tokens minted through a compatible surface also count here, by
	// surface (the audit event names it).
	bySurface := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_surface_tokens_issued_total", Help: "Tokens issued through a compatible surface, by surface and kind.",
	}, []string{"surface", "kind"})
	deny := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tokend_denylist_entries", Help: "Revocation entries held in memory.",
	}, func() float64 { return float64(a.revoke.DenyList().Size()) })
	// Token exchange and jwt-bearer grants, by grant and outcome (their
	// audit events name the grant).
	byGrant := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_grant_outcomes_total", Help: "Token exchange and jwt-bearer grants by grant and outcome (success, failure).",
	}, []string{"grant", "outcome"})
	a.registry.MustRegister(events, issued, bySurface, deny, byGrant)
	a.audit.SetObserver(func(e store.AuditEvent) {
		a.wakeAuditSinks()
		events.WithLabelValues(e.Action, e.Outcome).Inc()
		if g := e.Detail["grant"]; g != "" {
			byGrant.WithLabelValues(g, e.Outcome).Inc()
		}
		if e.Detail["format"] != "" { // only issuance events name the format
			issued.WithLabelValues(e.Detail["kind"]).Inc()
			if sf := e.Detail["surface"]; sf != "" {
				bySurface.WithLabelValues(sf, e.Detail["kind"]).Inc()
			}
		}
	})
	if db, ok := st.(interface{ Writer() *sql.DB }); ok {
		a.registry.MustRegister(collectors.NewDBStatsCollector(db.Writer(), "tokend"))
	}
}

// secretChecks registers the count of client secret comparisons by the
// hash they spent and returns the function that feeds it.
func (a *App) secretChecks() func(hash string) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "tokend_client_secret_checks_total",
		Help: "Client secret comparisons by the hash spent (sha256, argon2id); an unknown client spends what a wrong secret does.",
	}, []string{"hash"})
	a.registry.MustRegister(c)
	return func(hash string) { c.WithLabelValues(hash).Inc() }
}

// newBinding builds the resolver that tells a compatible surface which
// tenant a request is for. --dev binds every surface that --surface-tenants
// does not name to the demo tenant.
func newBinding(cfg config.Config, st store.Store) (*binding.Resolver, error) {
	hosts, err := config.ParsePairs(cfg.SurfaceHosts)
	if err != nil {
		return nil, fmt.Errorf("surface-hosts: %w", err)
	}
	tenants, err := config.ParsePairs(cfg.SurfaceTenants)
	if err != nil {
		return nil, fmt.Errorf("surface-tenants: %w", err)
	}
	if cfg.Dev {
		for _, n := range binding.Names() {
			if _, ok := tenants[n]; !ok {
				tenants[n] = DevTenant
				if t, ok := devSurfaceTenants[n]; ok {
					tenants[n] = t
				}
			}
		}
	}
	return binding.New(binding.Options{Store: st, Hosts: hosts, Tenants: tenants})
}

// buildInfo is the constant metric tokend_build_info, 1, labelled with the
// running binary's version, revision and Go release.
func buildInfo() prometheus.Collector {
	i := buildinfo.Get()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "tokend_build_info",
		Help:        "Always 1; its labels say which tokend is running.",
		ConstLabels: prometheus.Labels{"version": i.Version, "revision": i.Revision, "goversion": i.GoVersion}})
	g.Set(1)
	return g
}
