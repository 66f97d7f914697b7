package apstrata

import (
	"net/url"
	"testing"
)

// FuzzParse: any parameters either parse or give a legacy error, never a
// panic; a parsed request names only known parameters.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"apsws.time=1&apsws.authSig=ab", "apsws.time=x", "apsdb.tokenExpires=-1&apsws.time=1", "apsws.jc=a.b&apsws.time=1", "a=1&a=2", "apsws.id=u&apsws.user=v&apsws.time=1"} {
		f.Add("GenerateToken", s)
		f.Add("RenewToken", s)
	}
	f.Fuzz(func(t *testing.T, action, q string) {
		p, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		_ = readFormat(p)
		rq, err := parse("key", action, p)
		if err != nil {
			if _, ok := err.(*paramError); !ok {
				t.Fatalf("parse(%q) error %T %v", q, err, err)
			}
			return
		}
		for k := range rq.Params {
			if !contains(common, k) && !contains(specific[action], k) {
				t.Fatalf("parse(%q) accepted %q", q, k)
			}
		}
		if rq.Time == "" || (rq.Mode != "simple" && rq.Mode != "complex" && rq.Mode != "token") {
			t.Fatalf("parse(%q) = %+v", q, rq)
		}
	})
}
