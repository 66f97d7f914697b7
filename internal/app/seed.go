package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
)

// SeedOptions size a synthetic data set for measuring tokend on a full
// database (tokend bench seed-data).
type SeedOptions struct {
	// LedgerRows is how many token rows to add; Revocations how many of
	// them to revoke (each a revoked_at on the row and a token revocation
	// in the revocation log, as tokend's own revocation writes them).
	LedgerRows, Revocations int64
	// Tenants and Clients are how many seed tenants (seed-0000, ...) the
	// rows spread over and how many clients per tenant issue them; half
	// the rows are for users (Users per tenant), half for clients.
	Tenants, Clients, Users int
	// TimeLimit, when above 0, ends the load when it has run that long
	// (at a transaction boundary: what was committed stays).
	TimeLimit time.Duration
	// Progress, when set, is called after every transaction.
	Progress func(rows, revocations int64, elapsed time.Duration)
}

// SeedResult is what Seed wrote.
type SeedResult struct {
	LedgerRows, Revocations int64
	Elapsed                 time.Duration
	// Complete is false when the time limit or ctx stopped the load.
	Complete bool
}

// Limits of SeedOptions.
const (
	MaxSeedRows    = 100_000_000
	seedBatch      = 500    // rows per INSERT statement
	seedTxRows     = 50_000 // rows per transaction
	seedMaxTenants = 10_000
)

// Seed appends synthetic ledger rows and revocations to the database of
// cfg (migrating it first), in multi-row INSERTs of seedBatch rows and
// transactions of seedTxRows, using the store's own tables. Every row is
// live (issued up to a day ago, expiring 1 to 30 days from now), so that
// it counts wherever live tokens count, and the revocations stay in the
// revocation set until their tokens expire. Row ids start with the load's
// start time, so loads can be repeated on one database.
func Seed(ctx context.Context, cfg config.Config, o SeedOptions) (SeedResult, error) {
	if o.LedgerRows < 0 || o.LedgerRows > MaxSeedRows {
		return SeedResult{}, fmt.Errorf("ledger rows %d: want 0..%d", o.LedgerRows, MaxSeedRows)
	}
	if o.Revocations < 0 || o.Revocations > o.LedgerRows {
		return SeedResult{}, fmt.Errorf("revocations %d: want 0..%d (the ledger rows)", o.Revocations, o.LedgerRows)
	}
	if o.Tenants < 1 || o.Tenants > seedMaxTenants || o.Clients < 1 || o.Users < 1 {
		return SeedResult{}, fmt.Errorf("tenants %d, clients %d, users %d: want 1..%d tenants and at least one client and user",
			o.Tenants, o.Clients, o.Users, seedMaxTenants)
	}
	st, err := OpenStore(ctx, cfg)
	if err != nil {
		return SeedResult{}, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		return SeedResult{}, err
	}
	w, ok := st.(interface{ Writer() *sql.DB })
	if !ok {
		return SeedResult{}, errors.New("seed: the store has no SQL writer")
	}
	pg := cfg.DatabaseURL != ""
	start := time.Now()
	for i := range o.Tenants {
		err := st.Tenants().Create(ctx, store.Tenant{ID: seedTenant(i), DisplayName: "seed data", CreatedAt: start, UpdatedAt: start})
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return SeedResult{}, fmt.Errorf("seed tenant: %w", err)
		}
	}
	s := &seeder{db: w.Writer(), pg: pg, o: o, run: strconv.FormatInt(start.UnixMicro(), 36), now: start}
	res := SeedResult{Complete: true}
	for res.LedgerRows < o.LedgerRows {
		if ctx.Err() != nil || (o.TimeLimit > 0 && time.Since(start) >= o.TimeLimit) {
			res.Complete = false
			break
		}
		n := min(seedTxRows, o.LedgerRows-res.LedgerRows)
		revoked := min(n, max(0, o.Revocations-res.Revocations))
		if err := s.tx(ctx, res.LedgerRows, n, revoked); err != nil {
			return res, err
		}
		res.LedgerRows += n
		res.Revocations += revoked
		res.Elapsed = time.Since(start)
		if o.Progress != nil {
			o.Progress(res.LedgerRows, res.Revocations, res.Elapsed)
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

func seedTenant(i int) string { return fmt.Sprintf("seed-%04d", i) }

type seeder struct {
	db  *sql.DB
	pg  bool
	o   SeedOptions
	run string
	now time.Time
}

// Columns written per row.
var (
	seedTokenCols = []string{"tenant", "id", "kind", "format", "subject_type", "subject", "client_id",
		"audience", "scope", "issued_at", "expires_at", "revoked_at", "grant_type"}
	seedRevocationCols = []string{"tenant", "scope", "subject_type", "key", "cutoff", "until", "created_at"}
)

// insertSQL is a multi-row INSERT of rows rows into table.
func (s *seeder) insertSQL(table string, cols []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteByte(',')
			}
			n++
			if s.pg {
				b.WriteString("$" + strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// tx writes rows first..first+n-1, the first revoked of them revoked, in
// one transaction.
func (s *seeder) tx(ctx context.Context, first, n, revoked int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	now := s.now.UnixMicro()
	args := make([]any, 0, seedBatch*len(seedTokenCols))
	rargs := make([]any, 0, seedBatch*len(seedRevocationCols))
	for done := int64(0); done < n; {
		k := min(seedBatch, n-done)
		args, rargs = args[:0], rargs[:0]
		for j := int64(0); j < k; j++ {
			i := first + done + j
			ten := seedTenant(int(i % int64(s.o.Tenants)))
			id := s.run + "-" + strconv.FormatInt(i, 36)
			// Within a tenant, its k-th row alternates client and user
			// subjects and cycles over its clients and users.
			k := i / int64(s.o.Tenants)
			client := "seed-client-" + strconv.Itoa(int((k/2)%int64(s.o.Clients)))
			subjectType, subject := "client", client
			if k%2 == 1 {
				subjectType, subject = "user", "seed-user-"+strconv.Itoa(int((k/2)%int64(s.o.Users)))
			}
			issued := now - (i%86_400)*1_000_000
			expires := now + (86_400+(i%(29*86_400)))*1_000_000
			var revokedAt any
			if done+j < revoked {
				revokedAt = now
				rargs = append(rargs, ten, store.RevokeToken, "", id, now, expires, now)
			}
			args = append(args, ten, id, "access", "jwt", subjectType, subject, client,
				`["api"]`, `["read"]`, issued, expires, revokedAt, "client_credentials")
		}
		if _, err := tx.ExecContext(ctx, s.insertSQL("tokens", seedTokenCols, int(k)), args...); err != nil {
			return fmt.Errorf("seed ledger rows: %w", err)
		}
		if r := len(rargs) / len(seedRevocationCols); r > 0 {
			if _, err := tx.ExecContext(ctx, s.insertSQL("revocations", seedRevocationCols, r), rargs...); err != nil {
				return fmt.Errorf("seed revocations: %w", err)
			}
		}
		done += k
	}
	return tx.Commit()
}
