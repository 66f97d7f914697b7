package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/buildinfo"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/logsink"
)

// serverCommands returns serve, migrate and bootstrap.
func serverCommands() []*cobra.Command {
	return []*cobra.Command{serveCmd(), migrateCmd(), bootstrapCmd(), healthcheckCmd(), versionCmd()}
}

// loadConfig reads the configuration of a server command.
func loadConfig(cmd *cobra.Command) (config.Config, error) {
	cfg, err := config.Load(cmd.Flags(), os.Environ())
	if err != nil {
		return cfg, err
	}
	if cfg.Dev && !cmd.Flags().Changed("log-format") && os.Getenv("TOKEND_LOG_FORMAT") == "" {
		cfg.LogFormat = "text"
	}
	return cfg, nil
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	return slog.New(newHandler(cfg, w))
}

func newHandler(cfg config.Config, w io.Writer) slog.Handler {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.NewTextHandler(w, opts)
	}
	return slog.NewJSONHandler(w, opts)
}

// newServerLogger is the logger of a serving process: its records (an
// access log line per request among them) are written in batches; see
// package logsink. Close the sink when the server ends.
func newServerLogger(cfg config.Config, w io.Writer) (*slog.Logger, *logsink.Sink) {
	sink := logsink.New(w)
	return slog.New(sink.Handler(newHandler(cfg, sink))), sink
}

func serveCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the token server",
		Long: `Run the tokend server.

With no database URL, tokend keeps everything in an embedded SQLite database
in the data directory (default ./tokend-data) and needs no other service.
With --database postgres://..., any number of replicas share one PostgreSQL
database.

--dev listens on loopback only, creates a "demo" tenant with example
clients, users and devices, writes every credential to
<data>/dev-credentials.json and prints how to get a first token.

Every flag can also be set as TOKEND_<FLAG> in the environment (e.g.
TOKEND_ADDR) or in a JSON --config file; flags win over the environment,
which wins over the file. The master key that encrypts signing keys comes
from TOKEND_MASTER_KEY (or TOKEND_MASTER_KEY_FILE), else from
<data>/master.key, created on first start with mode 0600.`,
		Example: `  tokend serve --dev
  tokend serve --addr :8080 --public-url https://auth.example.com --data /var/lib/tokend
  TOKEND_DATABASE_URL=postgres://tokend@db/tokend tokend serve --addr :8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if cfg.Dev && !app.IsLoopback(cfg.Addr) {
				return fmt.Errorf("--dev listens on loopback only; %q is not a loopback address (use 127.0.0.1:PORT)", cfg.Addr)
			}
			log, sink := newServerLogger(cfg, cmd.ErrOrStderr())
			defer sink.Close()
			tuneGC()
			ctx := cmd.Context()
			a, err := app.New(ctx, cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()
			ln, err := net.Listen("tcp", cfg.Addr)
			if err != nil {
				return err
			}
			if cfg.Dev {
				creds, path, err := a.DevSetup(ctx)
				if err != nil {
					ln.Close()
					return fmt.Errorf("dev fixtures: %w", err)
				}
				printDevBanner(cmd.OutOrStdout(), creds, path)
			}
			log.Info("tokend ready", "version", buildinfo.Get().Version, "revision", buildinfo.Get().Revision, "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
				"database", databaseKind(cfg), "startup_ms", time.Since(start).Milliseconds())
			_ = sink.Flush()
			return a.Serve(ctx, ln)
		},
	}
	config.RegisterFlags(cmd.Flags())
	return cmd
}

func databaseKind(cfg config.Config) string {
	if cfg.DatabaseURL != "" {
		return "postgres"
	}
	return "sqlite"
}

func printDevBanner(w io.Writer, c app.DevCredentials, path string) {
	svc := c.Clients[0]
	fmt.Fprintf(w, `
tokend is running in dev mode at %s
  tenant %q, issuer %s
  every credential is in %s

Get a first token (OAuth 2.0 client_credentials, secret read from the file):

  curl -s -u %s:$(jq -r '.clients[] | select(.client_id=="%s") | .client_secret' %s) \
    -d grant_type=client_credentials -d scope=read %s/oauth2/token

or through the admin API:

  curl -s -X POST %s/v1/tenants/%s/tokens \
    -H 'Authorization: Bearer %s' \
    -H 'Content-Type: application/json' \
    -d '{"client_id":"%s","scope":"read"}'

Admin commands:
  export TOKEND_ENDPOINT=%s TOKEND_TOKEN=%s
  tokend tenants list

`, c.Endpoint, c.Tenant, c.Issuer, path, svc.ClientID, svc.ClientID, path, c.Issuer,
		c.Endpoint, c.Tenant, c.AdminToken, svc.ClientID, c.Endpoint, c.AdminToken)
	names := make([]string, 0, len(c.CompatBanner))
	for n := range c.CompatBanner {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "Compatible surface %s (credentials under compat.%s in %s):\n%s\n\n", n, n, path, strings.TrimRight(c.CompatBanner[n], "\n"))
	}
	for _, cl := range c.Clients {
		if cl.ClientID == app.DevExchangeClient {
			fmt.Fprintf(w, `Token exchange (RFC 8693) of an ID token from the trusted issuer:

  curl -s -u %s:$(jq -r '.clients[] | select(.client_id=="%s") | .client_secret' %s) \
    -d grant_type=urn:ietf:params:oauth:grant-type:token-exchange \
    -d subject_token_type=urn:ietf:params:oauth:token-type:id_token \
    --data-urlencode subject_token="$ID_TOKEN" %s/oauth2/token

`, cl.ClientID, cl.ClientID, path, c.Issuer)
		}
	}
}

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database schema migrations and exit",
		Long: `Apply every pending schema migration to the configured database (SQLite in
the data directory, or --database postgres://...). Safe to run twice and from
several processes at once; tokend serve also applies them at start-up.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			st, err := app.OpenStore(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			applied, err := st.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "schema is up to date")
				return nil
			}
			v := make([]string, len(applied))
			for i, n := range applied {
				v[i] = fmt.Sprint(n)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "applied migrations: %s\n", strings.Join(v, ", "))
			return nil
		},
	}
	config.RegisterFlags(cmd.Flags(), "data", "database", "config")
	return cmd
}

func bootstrapCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create the first system admin credential (once) and print it",
		Long: `Create the system tenant, its "admin" client and a system admin key, and print
them once. Run it against the same data directory or database as the server,
before or while the server runs. A second run refuses: create further admin
credentials through the admin API with the first one.

The admin key (tkd_adm_...) does not expire; keep it secret, and revoke it
with "tokend tokens revoke ID --tenant system" once you have others.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			log := newLogger(cfg, io.Discard)
			a, err := app.New(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer a.Close()
			b, err := a.Bootstrap(cmd.Context())
			if errors.Is(err, app.ErrBootstrapped) {
				return &exitError{code: 2, err: err}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), `System admin credential (shown once, store it safely):

  admin token:   %s
  token id:      %s
  client id:     %s
  client secret: %s

  export TOKEND_TOKEN=%s
`, b.Token, b.TokenID, b.ClientID, b.ClientSecret, b.Token)
			return nil
		},
	}
	config.RegisterFlags(cmd.Flags(), "data", "database", "public-url", "config")
	return cmd
}

// tuneGC sets the garbage collector of a serving process. The heap is small
// (tens of MB) and every request allocates: collecting a quarter as often
// gives 20-25 % more issuance throughput for about 20 MB of memory. GOGC
// overrides it. A soft memory limit (unless GOMEMLIMIT is set) makes the
// collector run more often only when the heap nears it, under a burst of
// connections, so that a server with a small live heap stays under about
// 100 MiB resident. The limit follows the live heap (see memoryLimitFor):
// a fixed one below a large live heap (a million revocations in memory)
// would have the collector run without pause, at up to half the CPUs.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
		go followLiveHeap()
	}
}

// DefaultMemoryLimit is the smallest soft memory limit tuneGC sets.
const DefaultMemoryLimit = 64 << 20

// memoryLimitFor is the soft memory limit for a live heap of live bytes:
// DefaultMemoryLimit, or twice the live heap when that is more, so that
// the heap may always grow by as much again as it holds before a
// collection (GOGC=100 at worst, GOGC=400 while the limit is far).
func memoryLimitFor(live uint64) int64 {
	return max(DefaultMemoryLimit, 2*int64(min(live, math.MaxInt64/2)))
}

// followLiveHeap adjusts the soft memory limit to the live heap once a
// second, for the life of the process.
func followLiveHeap() {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for range t.C {
		metrics.Read(s)
		if s[0].Value.Kind() == metrics.KindUint64 {
			debug.SetMemoryLimit(memoryLimitFor(s[0].Value.Uint64()))
		}
	}
}
