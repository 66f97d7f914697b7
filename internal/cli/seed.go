package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/config"
)

// seedDataCmd returns `tokend bench seed-data`.
func seedDataCmd() *cobra.Command {
	var o app.SeedOptions
	cmd := &cobra.Command{
		Use:   "seed-data",
		Short: "Fill a tokend database with synthetic ledger rows and revocations, to measure at size",
		Long: `Add --ledger-rows live token rows and revoke --revocations of them (a
revoked_at on the row and a token revocation in the revocation log) in the
configured database (SQLite in --data, or --database postgres://...),
migrating it first. Rows spread over --tenants seed tenants (seed-0000, ...),
--clients clients and --users users per tenant, half for clients and half
for users; each was issued within the last day and expires 1 to 30 days from
now, so every row is live and every revocation stays in the revocation set.
Rows go in multi-row INSERTs of 500 in transactions of 50,000; the load stops
at --time-limit, keeping what it committed. Loads can be repeated on one
database. Run it while no tokend serves the database (SQLite) or expect
tokend's writes to wait behind its transactions.`,
		Example: `  tokend bench seed-data --data ./bench-data --ledger-rows 10000000 --revocations 1000000 --time-limit 30m
  tokend bench seed-data --database "$TOKEND_DATABASE_URL" --ledger-rows 1000000 --revocations 100000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			errOut := cmd.ErrOrStderr()
			last := time.Now()
			o.Progress = func(rows, revs int64, elapsed time.Duration) {
				if time.Since(last) >= 5*time.Second {
					last = time.Now()
					fmt.Fprintf(errOut, "seed-data: %d ledger rows, %d revocations, %s\n", rows, revs, elapsed.Round(time.Second))
				}
			}
			res, err := app.Seed(cmd.Context(), cfg, o)
			fmt.Fprintf(cmd.OutOrStdout(), "seeded %d ledger rows and %d revocations in %s (%.0f rows/s)\n",
				res.LedgerRows, res.Revocations, res.Elapsed.Round(time.Millisecond), float64(res.LedgerRows)/max(res.Elapsed.Seconds(), 1e-9))
			if err != nil {
				return err
			}
			if !res.Complete {
				return fmt.Errorf("seed-data stopped at --time-limit %s after %d of %d ledger rows", o.TimeLimit, res.LedgerRows, o.LedgerRows)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.Int64Var(&o.LedgerRows, "ledger-rows", 1_000_000, fmt.Sprintf("live token rows to add (at most %d)", app.MaxSeedRows))
	fs.Int64Var(&o.Revocations, "revocations", 100_000, "how many of the added rows to revoke")
	fs.IntVar(&o.Tenants, "tenants", 100, "seed tenants the rows spread over")
	fs.IntVar(&o.Clients, "clients", 100, "clients per seed tenant")
	fs.IntVar(&o.Users, "users", 10_000, "users per seed tenant")
	fs.DurationVar(&o.TimeLimit, "time-limit", 30*time.Minute, "stop after this long, keeping what was committed (0: no limit)")
	config.RegisterFlags(fs, "data", "database", "config")
	return cmd
}
