package binding

import "regexp"

func init() { Register("apstrata", func() Settings { return &Apstrata{} }) }

// Apstrata are a tenant's settings of seed 004's surface
// (internal/compat/apstrata): the account key its requests name in the
// path, and the client that is the account owner (allowed tokend:admin;
// its account secret is the client's sealed legacy secret, never a
// setting).
type Apstrata struct {
	AccountKey  string `json:"account_key"`
	OwnerClient string `json:"owner_client"`
}

// accountKey is what an account key may be: it is a path segment.
var accountKey = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,128}$`)

// Validate implements Settings.
func (s *Apstrata) Validate() map[string]string {
	p := map[string]string{}
	if !accountKey.MatchString(s.AccountKey) {
		p["account_key"] = "must be 1 to 128 letters, digits, '.', '_', '~' or '-'"
	}
	if s.OwnerClient == "" {
		p["owner_client"] = "must name the client that is the account owner"
	}
	return p
}

// LookupKey implements Settings: requests name the tenant by account key.
func (s *Apstrata) LookupKey() string { return s.AccountKey }
