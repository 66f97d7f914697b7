// Package cli is tokend's command line: the server commands (serve, migrate,
// bootstrap) and the admin commands that call the admin API.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Main runs the command line with args and returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.err != nil && ee.err.Error() != "" {
				fmt.Fprintln(stderr, "error:", ee.err)
			}
			return ee.code
		}
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// exitError carries an exit code other than 1.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "tokend",
		Short: "tokend issues, renews, validates and revokes access tokens",
		Long: `tokend is a multi-tenant token service: OAuth 2.0 / OpenID Connect token
endpoints, an admin API, and compatible surfaces for existing token APIs.

Run a local server with demo data:   tokend serve --dev
Run a server:                        tokend serve --data ./tokend-data
Talk to a server's admin API:        tokend tenants list --endpoint URL --token TOKEN
Shell completion:                    tokend completion bash|zsh|fish|powershell --help`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddGroup(&cobra.Group{ID: "server", Title: "Server commands:"}, &cobra.Group{ID: "admin", Title: "Admin commands (call the admin API):"})
	for _, c := range serverCommands() {
		c.GroupID = "server"
		root.AddCommand(c)
	}
	b := benchCmd()
	b.GroupID = "server"
	root.AddCommand(b)
	for _, c := range adminCommands() {
		c.GroupID = "admin"
		root.AddCommand(c)
	}
	return root
}
