package apstrata_test

import (
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestRenewalsUntilLifetimeEnds: a token is renewed while it lives, each
// new one expiring no later than the lifetime end, until the lifetime is
// over; an expired token is not renewed; the old token lives 5 s more.
func TestRenewalsUntilLifetimeEnds(t *testing.T) {
	t.Parallel()
	fx := setup(t, "")
	a := wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", deviceID, devicePass, url.Values{"apsdb.tokenExpires": {"2"}, "apsdb.tokenLifetime": {"4"}}))))
	start := time.Now()
	end := start.Add(4 * time.Second) // the ledger keeps it in whole seconds: up to 1 s earlier
	tok := a.tok()
	tp := func(tok string) url.Values {
		return js(url.Values{"apsws.time": {now()}, "apsws.authMode": {"token"}, "apsws.id": {deviceID}, "apsdb.authToken": {tok}})
	}
	renewals := 0
	for time.Since(start) < 2*time.Second {
		time.Sleep(700 * time.Millisecond)
		r := wantOK(t, fx.post(t, "RenewToken", tp(tok)))
		exp, _ := strconv.Atoi(r.JSON.Response.Result["apsdb.tokenExpires"])
		if exp < 1 || exp > 2 {
			t.Fatalf("renewed expiry %d: %s", exp, r.Raw)
		}
		wantOK(t, fx.get(t, "VerifyCredentials", tp(tok))) // the old one, in its 5 s
		tok = r.tok()
		renewals++
	}
	if renewals == 0 {
		t.Fatal("no renewal")
	}
	time.Sleep(time.Until(end.Add(1100 * time.Millisecond)))
	// Past the lifetime: the last token has expired too, and is refused.
	wantErr(t, fx.post(t, "RenewToken", tp(tok)), 400, "INVALID_SIGNATURE", "")
}
