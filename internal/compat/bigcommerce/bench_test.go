package bigcommerce_test

import (
	"context"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/loadgen"
)

// TestBenchModes: tokend bench's BigCommerce modes and their native
// counterparts run against the dev fixtures without an error.
func TestBenchModes(t *testing.T) {
	t.Parallel()
	s, bc := dev(t, "")
	for _, m := range loadgen.BigCommerceModes {
		t.Run(m, func(t *testing.T) {
			res, err := loadgen.Run(context.Background(), loadgen.Config{Mode: m, Endpoint: s.URL, Tenant: bc.Tenant,
				APIToken: bc.AccessToken, StoreHash: bc.StoreHash, Username: bc.Email, Password: bc.Password,
				Concurrency: 2, Duration: 5 * time.Second, Requests: 6})
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 0 || res.Requests == 0 {
				t.Fatalf("%d requests, %d errors: %s", res.Requests, res.Errors, res.FirstError)
			}
		})
	}
}
