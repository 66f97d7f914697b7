package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// surfacesCommand is "tokend surfaces": the compatible surfaces a tenant
// serves and their settings.
func surfacesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "surfaces",
		Aliases: []string{"surface"},
		Short:   "Enable, configure and disable a tenant's compatible surfaces",
		Long: `A compatible surface answers the paths, fields and errors of a legacy token
API for a tenant. A tenant serves a surface once its settings are stored
("tokend surfaces set"); "tokend surfaces delete" stops it (tokens it
minted stay valid until they expire or are revoked). Setting or deleting
needs a system admin token; a tenant's admins may list and read.

` + tenantHelp + "\n\n" + connectionHelp,
		Example: "  tokend surfaces list -t acme\n  tokend surfaces set storetoken -t acme --settings '{}'",
	}
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the surfaces a tenant serves",
		Example: "  tokend surfaces list -t acme",
		Args:    cobra.NoArgs,
	}
	lo := &adminOptions{}
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := lo.connect(cmd, true)
		if err != nil {
			return err
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, s.tenantPath("surfaces"), nil, nil, &raw); err != nil {
			return err
		}
		if s.json {
			return s.printJSON(raw)
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		return s.printTable(page.Items, []column{{"NAME", "name"}, {"KEY", "key"}, {"SETTINGS", "settings"}, {"UPDATED", "updated_at"}})
	}
	addAdminFlags(list, lo, true)

	get := &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a tenant's settings of one surface",
		Example: "  tokend surfaces get storetoken -t acme",
		Args:    cobra.ExactArgs(1),
	}
	gopt := &adminOptions{}
	get.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := gopt.connect(cmd, true)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, s.tenantPath("surfaces", url.PathEscape(args[0])), nil, nil, &raw); err != nil {
			return err
		}
		return s.printObject(raw, surfaceOrder, "", "")
	}
	addAdminFlags(get, gopt, true)

	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Enable a surface for a tenant, or replace its settings",
		Long: `Store the tenant's settings of surface NAME, enabling it. --settings is the
whole settings object as JSON (replacing what was stored), or @FILE to read
it from a file; it defaults to {} (every setting at its default). Unknown
fields are refused, and each invalid field is named.`,
		Example: "  tokend surfaces set storetoken -t acme --settings '{}'\n  tokend surfaces set apstrata -t acme --settings @apstrata.json",
		Args:    cobra.ExactArgs(1),
	}
	so := &adminOptions{}
	var settings string
	set.Flags().StringVar(&settings, "settings", "{}", "the settings as a JSON object, or @FILE")
	set.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := so.connect(cmd, true)
		if err != nil {
			return err
		}
		body, err := settingsArg(settings)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := s.c.do(http.MethodPut, s.tenantPath("surfaces", url.PathEscape(args[0])), nil, body, &raw); err != nil {
			return err
		}
		return s.printObject(raw, surfaceOrder, "", "")
	}
	addAdminFlags(set, so, true)

	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Stop a tenant serving a surface",
		Example: "  tokend surfaces delete storetoken -t acme",
		Args:    cobra.ExactArgs(1),
	}
	do := &adminOptions{}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := do.connect(cmd, true)
		if err != nil {
			return err
		}
		if err := s.c.do(http.MethodDelete, s.tenantPath("surfaces", url.PathEscape(args[0])), nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "surface %s disabled for tenant %s\n", args[0], s.tenant)
		return nil
	}
	addAdminFlags(del, do, true)

	cmd.AddCommand(list, get, set, del)
	return cmd
}

var surfaceOrder = []string{"name", "key", "settings", "created_at", "updated_at"}

// settingsArg reads --settings: inline JSON or @FILE; it must be a JSON
// object.
func settingsArg(v string) (json.RawMessage, error) {
	b := []byte(v)
	if name, ok := strings.CutPrefix(v, "@"); ok {
		var err error
		if b, err = os.ReadFile(name); err != nil {
			return nil, fmt.Errorf("--settings: %w", err)
		}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, errors.New("--settings must be a JSON object (or @FILE holding one)")
	}
	return json.RawMessage(b), nil
}
