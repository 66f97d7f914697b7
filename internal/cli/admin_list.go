package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/spf13/cobra"
)

// filter is a list flag passed on as a query parameter.
type filter struct {
	flag, param, usage string
	kind               filterKind
}

type filterKind int

const (
	filterString filterKind = iota
	filterBool              // sent as "true" when set
	filterTime              // an RFC 3339 time
)

// listSpec describes a list command.
type listSpec struct {
	what     string // plural noun for help texts
	path     func(s *session) string
	columns  []column
	filters  []filter
	tenant   bool
	example  string
	extraDoc string
}

func listCommand(o *adminOptions, ls listSpec) *cobra.Command {
	var limit int
	var after string
	var all bool
	long := "List " + ls.what + ". Results come a page at a time (--limit, default 100 per page);\n" +
		"--all follows the pages to the end, --after CURSOR starts after a page."
	if ls.extraDoc != "" {
		long += "\n\n" + ls.extraDoc
	}
	if ls.tenant {
		long += "\n\n" + tenantHelp
	}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List " + ls.what,
		Long:    long,
		Example: ls.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, ls.tenant)
			if err != nil {
				return err
			}
			q := url.Values{}
			if cmd.Flags().Changed("limit") {
				if limit < 1 || limit > 1000 {
					return fmt.Errorf("invalid --limit %d: want 1 to 1000", limit)
				}
				q.Set("limit", strconv.Itoa(limit))
			}
			if after != "" {
				q.Set("after", after)
			}
			for _, f := range ls.filters {
				if !cmd.Flags().Changed(f.flag) {
					continue
				}
				switch f.kind {
				case filterBool:
					if v, _ := cmd.Flags().GetBool(f.flag); v {
						q.Set(f.param, "true")
					}
				case filterTime:
					v, _ := cmd.Flags().GetString(f.flag)
					if _, err := time.Parse(time.RFC3339, v); err != nil {
						return fmt.Errorf("invalid --%s %q: want an RFC 3339 time such as 2024-05-01T00:00:00Z", f.flag, v)
					}
					q.Set(f.param, v)
				default:
					v, _ := cmd.Flags().GetString(f.flag)
					q.Set(f.param, v)
				}
			}
			return s.list(ls.path(s), q, all, ls.columns)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&limit, "limit", 100, "items per page (1-1000)")
	fs.StringVar(&after, "after", "", "start after this cursor (the \"next\" of a previous page)")
	fs.BoolVar(&all, "all", false, "follow the pages until the last one")
	for _, f := range ls.filters {
		if f.kind == filterBool {
			fs.Bool(f.flag, false, f.usage)
		} else {
			fs.String(f.flag, "", f.usage)
		}
	}
	return cmd
}

// list gets path with q, following "next" when all is set, and prints the items.
func (s *session) list(path string, q url.Values, all bool, cols []column) error {
	var items []json.RawMessage
	var next string
	for {
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, path, q, nil, &raw); err != nil {
			return err
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return fmt.Errorf("unexpected answer from GET %s: %w", path, err)
		}
		if !all && s.json {
			return s.printJSON(raw)
		}
		items = append(items, page.Items...)
		next = page.Next
		if !all || next == "" {
			break
		}
		if next == q.Get("after") {
			return fmt.Errorf("server returned the same cursor %q twice", next)
		}
		q.Set("after", next)
	}
	if s.json {
		if items == nil {
			items = []json.RawMessage{}
		}
		b, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			return err
		}
		return s.printJSON(b)
	}
	if err := s.printTable(items, cols); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(s.errOut, "(more results: add --all, or --after %s)\n", next)
	}
	return nil
}
