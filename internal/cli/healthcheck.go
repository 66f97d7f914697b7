package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
)

func healthcheckCmd() *cobra.Command {
	var addr, path string
	var timeout time.Duration
	var useTLS bool
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local server is ready, 1 when it is not",
		Long: `Ask the tokend server listening on --addr (default: TOKEND_ADDR, as tokend
serve reads it, else 127.0.0.1:8080) whether it is ready (GET /readyz) and
exit 0 when it answers 200 within --timeout, 1 otherwise. An unspecified
listening host (0.0.0.0, ::) is asked on loopback. Made for container
HEALTHCHECK lines and service managers, where no curl is at hand.

With --tls (the default when TOKEND_TLS_CERT is set, as for a server that
serves HTTPS itself) it asks over HTTPS without checking the certificate:
it checks that the local server is ready, not who it is.`,
		Example: "  tokend healthcheck\n  tokend healthcheck --addr 127.0.0.1:9090 --path /healthz",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("addr") {
				if v := os.Getenv("TOKEND_ADDR"); v != "" {
					addr = v
				}
			}
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return fmt.Errorf("--addr %q: %w", addr, err)
			}
			if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
				host = "127.0.0.1"
			}
			if !cmd.Flags().Changed("tls") && os.Getenv("TOKEND_TLS_CERT") != "" {
				useTLS = true
			}
			scheme, client := "http", http.DefaultClient
			if useTLS {
				scheme = "https"
				client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
			}
			url := scheme + "://" + net.JoinHostPort(host, port) + path
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("%s: %w", url, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %s %s", url, resp.Status, body)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s", url, body)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "host:port the server listens on (env TOKEND_ADDR)")
	cmd.Flags().StringVar(&path, "path", "/readyz", "path to ask: /readyz (ready to serve) or /healthz (alive)")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "time allowed for the answer")
	cmd.Flags().BoolVar(&useTLS, "tls", false, "ask over HTTPS, not checking the certificate (default: true when TOKEND_TLS_CERT is set)")
	return cmd
}
