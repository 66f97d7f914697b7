package postgres

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestUnavailableCodes checks which server errors count as the database
// being unavailable (503) rather than a failure of the request: those of
// a server that is going away, refusing connections, or a standby now.
func TestUnavailableCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"25006", true}, // read_only_sql_transaction: the server is a standby now
		{"57P01", true}, // admin_shutdown: stopped, or demoted by an HA manager
		{"57P02", true}, // crash_shutdown
		{"57P03", true}, // cannot_connect_now: starting up, or in recovery
		{"08006", true}, // connection_failure
		{"53300", true}, // too_many_connections
		{"23505", false},
		{"40001", false},
		{"25P02", false},
	} {
		err := fmt.Errorf("commit: %w", &pgconn.PgError{Code: tc.code})
		if got := isUnavailable(err); got != tc.want {
			t.Errorf("SQLSTATE %s: isUnavailable = %v, want %v", tc.code, got, tc.want)
		}
	}
	if isUnavailable(errors.New("some other failure")) {
		t.Error("a plain error counts as unavailable")
	}
}

// TestStandbyConnectionDropped connects to the test server once as it
// is and once read-only by default (as a standby's sessions are), and
// checks that the pool would keep the first and drop the second.
func TestStandbyConnectionDropped(t *testing.T) {
	t.Parallel()
	base := pgtest.NewDatabase(t)
	for _, tc := range []struct {
		name, url string
		drop      bool
	}{
		{"primary", base, false},
		{"read-only", base + "&options=-c%20default_transaction_read_only%3Don", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			err = dropStandby(ctx, c)
			if got := errors.Is(err, driver.ErrBadConn); got != tc.drop {
				t.Fatalf("dropStandby = %v, want dropped %v", err, tc.drop)
			}
		})
	}
}
