package cli

import (
	"encoding/json"
	"net/http"

	"github.com/spf13/cobra"
)

func whoamiCommand() *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:     "whoami",
		Short:   "Show who the admin token belongs to",
		Long:    "Show the tenant, subject and scope of the admin token.\n\n" + connectionHelp,
		Example: "  tokend whoami --token \"$TOKEND_TOKEN\"\n  tokend whoami -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, false)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodGet, "/v1/whoami", nil, nil, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"tenant", "subject", "subject_type", "client_id", "scope", "system_admin", "token_id"}, "", "")
		},
	}
	addAdminFlags(cmd, o, false)
	return cmd
}
