// Command tokend is the tokend token server and its command-line client.
package main

import (
	"os"

	"github.com/tokend/tokend/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
