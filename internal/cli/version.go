package cli

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/tokend/tokend/internal/buildinfo"
)

func versionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print tokend's version, source revision and Go release",
		Long: `Print the version of this tokend binary, the source revision it was built
from (marked "modified" when the checkout had uncommitted changes) and the Go
release that built it. A running server reports the same in its "tokend
ready" log line and in the tokend_build_info metric.`,
		Example: "  tokend version\n  tokend version -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			i := buildinfo.Get()
			switch output {
			case "table":
				fmt.Fprintln(cmd.OutOrStdout(), i.String())
			case "json":
				b, _ := json.Marshal(i)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			default:
				return fmt.Errorf("invalid --output %q: want table or json", output)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (one line) or json")
	return cmd
}
