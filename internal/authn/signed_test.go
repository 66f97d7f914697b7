package authn

import (
	"testing"

	"github.com/tokend/tokend/internal/fault"
)

// TestSignerSubject: run_as is for owners and names a device or user; an
// owner without run_as cannot mint for itself.
func TestSignerSubject(t *testing.T) {
	t.Parallel()
	owner := Signer{Kind: "client", ID: "shop", Owner: true}
	for _, tc := range []struct {
		name     string
		signer   Signer
		runAs    string
		kind, id string
		field    string
	}{
		{name: "device for itself", signer: Signer{Kind: "device", ID: "d1"}, kind: "device", id: "d1"},
		{name: "user for itself", signer: Signer{Kind: "user", ID: "u1"}, kind: "user", id: "u1"},
		{name: "owner for a user", signer: owner, runAs: "user:u1", kind: "user", id: "u1"},
		{name: "owner for a device", signer: owner, runAs: "device:d1", kind: "device", id: "d1"},
		{name: "owner for itself", signer: owner, field: "run_as"},
		{name: "owner for a client", signer: owner, runAs: "client:other", field: "run_as"},
		{name: "owner, malformed run_as", signer: owner, runAs: "u1", field: "run_as"},
		{name: "device names another", signer: Signer{Kind: "device", ID: "d1"}, runAs: "user:u1", field: "run_as"},
		{name: "client that is no owner", signer: Signer{Kind: "client", ID: "c"}, runAs: "user:u1", field: "run_as"},
	} {
		kind, id, err := tc.signer.Subject(tc.runAs)
		if tc.field != "" {
			if fe := fault.As(err); fe == nil || fe.Code != fault.CodeInvalidRequest || fe.Field != tc.field {
				t.Errorf("%s: error %v, want invalid_request on %s", tc.name, err, tc.field)
			}
			continue
		}
		if err != nil || kind != tc.kind || id != tc.id {
			t.Errorf("%s: got %s:%s, %v; want %s:%s", tc.name, kind, id, err, tc.kind, tc.id)
		}
	}
}
