package apstrata_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
)

// TestDevFixtures: the seed's sample request works against the dev
// fixtures with its placeholders filled.
func TestDevFixtures(t *testing.T) {
	t.Parallel()
	s := apptest.Start(t, "")
	c, _, err := s.App.DevSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	x, ok := c.Compat["apstrata"].(app.DevApstrata)
	if !ok || c.CompatBanner["apstrata"] == "" {
		t.Fatalf("compat.apstrata = %#v", c.Compat["apstrata"])
	}
	fx := &fixture{s: s, key: x.AccountKey, base: s.URL + "/apsdb/rest/" + x.AccountKey + "/"}
	ts := now()
	p := url.Values{"apsws.time": {ts}, "apsws.authSig": {simpleSig(ts, x.DeviceID, "GenerateToken", strings.ToUpper(md5hex(x.DevicePass)))},
		"apsws.authMode": {"simple"}, "apsws.id": {x.DeviceID}, "apsws.responseType": {"json"}}
	a := wantOK(t, fx.get(t, "GenerateToken", p))
	if !hexToken.MatchString(a.tok()) {
		t.Fatalf("dev device token %s", a.Raw)
	}
	wantOK(t, fx.get(t, "GenerateToken", js(fx.userSimple("GenerateToken", x.UserLogin, x.UserPass, url.Values{}))))
	ts = now()
	p = url.Values{"apsws.time": {ts}, "apsws.authSig": {simpleSig(ts, x.AccountKey, "GenerateToken", x.OwnerSecret)}, "apsws.authMode": {"simple"},
		"apsdb.runAs": {x.DeviceID}, "apsws.responseType": {"json"}, "apsdb.tokenExpires": {"60"}}
	wantOK(t, fx.get(t, "GenerateToken", p))
}
