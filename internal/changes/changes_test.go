package changes_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tokend/tokend/internal/changes"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite"
)

// TestRewoundLogIsFollowed makes the change log go back, as a failover to a
// copy that missed the last changes does (the lost rows gone and their
// numbers handed out again), and checks that the follower reports it and
// applies the changes that reuse the numbers instead of skipping them.
func TestRewoundLogIsFollowed(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tokend.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if err := st.Changes().Append(ctx, store.Change{Tenant: "t", Entity: store.EntityClient, Key: k}); err != nil {
			t.Fatal(err)
		}
	}
	var applied []string
	f, err := changes.New(ctx, st, changes.RewindCheck, slog.New(slog.NewTextHandler(io.Discard, nil)),
		func(_ context.Context, c store.Change) error { applied = append(applied, c.Key); return nil })
	if err != nil {
		t.Fatal(err)
	}
	var rewinds [][2]int64
	f.OnRewind = func(_ context.Context, cursor, last int64) { rewinds = append(rewinds, [2]int64{cursor, last}) }

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `DELETE FROM changes WHERE seq > 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE sqlite_sequence SET seq = 1 WHERE name = 'changes'`); err != nil {
		t.Fatal(err)
	}
	if err := st.Changes().Append(ctx, store.Change{Tenant: "t", Entity: store.EntityClient, Key: "after"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if len(rewinds) != 1 || rewinds[0] != [2]int64{3, 2} {
		t.Fatalf("rewinds = %v, want one from 3 to 2", rewinds)
	}
	if err := st.Changes().Append(ctx, store.Change{Tenant: "t", Entity: store.EntityClient, Key: "later"}); err != nil {
		t.Fatal(err)
	}
	if err := f.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	// The log is read again from its start: "after" reuses number 2,
	// below the old cursor, and is applied all the same.
	if want := []string{"a", "after", "later"}; !slices.Equal(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
}
