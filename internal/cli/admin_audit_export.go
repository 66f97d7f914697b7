package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// exportRetries bounds how often "audit export" resumes a cut stream.
const exportRetries = 5

func auditExportCommand(o *adminOptions) *cobra.Command {
	var after int64
	var from, to, action, actor, subject, clientID string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Stream a tenant's audit events as NDJSON",
		Long: "Write a tenant's audit events to stdout as NDJSON, one JSON object per line,\n" +
			"oldest first, each with its seq, hash and prev_hash so that the chain can be\n" +
			"checked outside tokend. The server streams them (GET .../audit/export); when\n" +
			"the connection is cut, the command resumes after the last event it wrote (up\n" +
			"to 5 times), so no event is written twice or lost. Pass --after SEQ to go on\n" +
			"from an earlier export: the last line's seq.\n\n" + tenantHelp,
		Example: "  tokend audit export -t acme > acme-audit.ndjson\n" +
			"  tokend audit export -t acme --after \"$(tail -n1 acme-audit.ndjson | jq .seq)\" >> acme-audit.ndjson\n" +
			"  tokend audit export -t acme --from 2026-01-01T00:00:00Z --action token.issue",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			q := url.Values{}
			for k, v := range map[string]string{"from": from, "to": to, "action": action, "actor": actor, "subject": subject, "client_id": clientID} {
				if v != "" {
					q.Set(k, v)
				}
			}
			for _, k := range []string{"from", "to"} {
				if v := q.Get(k); v != "" {
					if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
						return fmt.Errorf("invalid --%s %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", k, v)
					}
				}
			}
			if after < 0 {
				return fmt.Errorf("invalid --after %d: want a seq >= 0", after)
			}
			out := bufio.NewWriter(s.out)
			defer out.Flush()
			last := after
			for attempt := 0; ; attempt++ {
				q.Set("after", strconv.FormatInt(last, 10))
				n, seq, err := s.c.stream(s.tenantPath("audit", "export"), q, out)
				if seq > 0 {
					last = seq
				}
				if err == nil {
					return nil
				}
				var ae *apiError
				if errors.As(err, &ae) || attempt >= exportRetries {
					return err
				}
				if ferr := out.Flush(); ferr != nil {
					return ferr
				}
				fmt.Fprintf(s.errOut, "export cut after seq %d (%d events in this attempt): %v; resuming\n", last, n, err)
				time.Sleep(time.Duration(attempt+1) * 500 * time.Millisecond)
			}
		},
	}
	fs := cmd.Flags()
	fs.Int64Var(&after, "after", 0, "start after this seq (the last line of an earlier export)")
	fs.StringVar(&from, "from", "", "events at or after this RFC 3339 time")
	fs.StringVar(&to, "to", "", "events before this RFC 3339 time")
	fs.StringVar(&action, "action", "", "only this action")
	fs.StringVar(&actor, "actor", "", "only events by this actor")
	fs.StringVar(&subject, "subject", "", "only events about this subject")
	fs.StringVar(&clientID, "client-id", "", "only events of this client")
	return cmd
}

// stream GETs path as NDJSON and copies each complete line to w; it
// returns how many lines it copied and the seq of the last one. A stream
// that ends without its final newline, or is cut, is an error; the lines
// before the cut were written.
func (c *adminClient) stream(path string, query url.Values, w io.Writer) (int, int64, error) {
	u := strings.TrimRight(c.endpoint, "/") + path + "?" + query.Encode()
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/x-ndjson")
	hc := c.http
	if hc == nil {
		hc = &http.Client{} // no overall timeout: a long export is fine
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("cannot reach tokend at %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		ae := &apiError{}
		if json.Unmarshal(data, ae) != nil || ae.Code == "" {
			ae = &apiError{Code: strings.ToLower(http.StatusText(resp.StatusCode))}
		}
		ae.Status = resp.StatusCode
		return 0, 0, ae
	}
	r := bufio.NewReaderSize(resp.Body, 64<<10)
	n := 0
	var last int64
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			var ev struct {
				Seq int64 `json:"seq"`
			}
			if jerr := json.Unmarshal(line, &ev); jerr != nil || ev.Seq <= last {
				return n, last, fmt.Errorf("unexpected export line %d: %.80q", n+1, line)
			}
			if _, werr := w.Write(line); werr != nil {
				return n, last, werr
			}
			n++
			last = ev.Seq
		}
		switch {
		case err == io.EOF && len(line) == 0:
			return n, last, nil
		case err == io.EOF:
			return n, last, io.ErrUnexpectedEOF
		case err != nil:
			return n, last, err
		}
	}
}
