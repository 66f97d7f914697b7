// Package pgtest creates throw-away PostgreSQL databases for tests.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the environment variable holding the URL of a PostgreSQL
// server tests may create databases on.
const EnvURL = "TOKEND_TEST_POSTGRES"

// NewDatabase creates an empty database on the server named by
// TOKEND_TEST_POSTGRES, drops it when the test ends, and returns its URL.
// The test is skipped only when the variable is unset.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		announceSkip()
		t.Skip(skipMessage)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvURL, err)
	}
	defer admin.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "tokend_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

const skipMessage = EnvURL + " is not set: the PostgreSQL tests are SKIPPED. Run them with " +
	EnvURL + "='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' (.ci/run sets it)"

var announced sync.Once

// announceSkip says that the PostgreSQL tests are skipped where the person
// running the tests sees it: go test shows a passing package's output only
// with -v, so the line goes to the terminal (when there is one) as well as
// to stderr, once per go test run (the test binaries of one run share
// their parent, the go command).
func announceSkip() {
	announced.Do(func() {
		fmt.Fprintln(os.Stderr, "WARNING: "+skipMessage)
		marker := filepath.Join(os.TempDir(), fmt.Sprintf("tokend-pgtest-skip-%d", os.Getppid()))
		f, err := os.OpenFile(marker, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return // another package of this run said it already
		}
		f.Close()
		if tty, err := os.OpenFile("/dev/tty", os.O_WRONLY, 0); err == nil {
			fmt.Fprint(tty, "\nWARNING: "+skipMessage+"\n\n")
			tty.Close()
		}
	})
}
