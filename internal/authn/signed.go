package authn

import (
	"context"
	"encoding/hex"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/signing"
)

// Signers returns the signing secret of a device, user or client (package
// signing), or not_found when it has none.
type Signers interface {
	SigningSecret(ctx context.Context, tenant, kind, id string) (directory.Signer, error)
}

// SignedRequest is a request signed under a signing secret (package
// signing): its method, path and form parameters, sig among them.
type SignedRequest struct {
	Tenant, Method, Path string
	Form                 url.Values
}

// Signer is the verified signer of a signed request.
type Signer struct {
	Kind, ID string
	// Owner is true for a client allowed tokend:admin.
	Owner bool
}

var errSignature = fault.InvalidClient("invalid signature")

// Signed verifies a signed request: principal and ts well formed, ts within
// signing.Window of now, sig the HMAC of the request under the
// principal's signing secret (compared in constant time), and the
// signature not used before on any replica. An unknown principal, one
// without a secret and a wrong signature get the same answer.
func (a *Authenticator) Signed(ctx context.Context, r SignedRequest) (Signer, error) {
	kind, id, ok := strings.Cut(r.Form.Get("principal"), ":")
	if !ok || id == "" {
		return Signer{}, fault.InvalidRequest("principal must be device:ID, user:ID or client:ID").WithField("principal")
	}
	ts, err := strconv.ParseInt(r.Form.Get("ts"), 10, 64)
	if err != nil {
		return Signer{}, fault.InvalidRequest("ts must be the unix time in seconds").WithField("ts")
	}
	if !signing.InWindow(ts, a.now()) {
		return Signer{}, fault.InvalidClient("ts is more than 5 minutes away from the server's time")
	}
	if a.signers == nil {
		return Signer{}, errSignature
	}
	signer, err := a.signers.SigningSecret(ctx, r.Tenant, kind, id)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			return Signer{}, errSignature // unknown principal or no secret: the same answer
		}
		return Signer{}, err
	}
	sig := r.Form.Get("sig")
	if !signing.Valid(signer.Secret, r.Method, r.Path, r.Form, sig) {
		return Signer{}, errSignature
	}
	// Each signature once, across replicas, for as long as its ts is valid;
	// keyed on its bytes, so that re-casing the hex is the same signature.
	raw, _ := hex.DecodeString(sig) // Valid decoded it already
	if err := a.st.Nonces().Use(ctx, r.Tenant+"|"+kind+":"+id+"|"+hex.EncodeToString(raw), time.Unix(ts, 0).Add(signing.Window)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Signer{}, fault.InvalidClient("signature already used")
		}
		return Signer{}, fault.Unavailable(err)
	}
	return Signer{Kind: kind, ID: id, Owner: signer.Owner}, nil
}

// Subject returns whom a signed request may mint for: the signer itself,
// or with runAs (device:ID or user:ID) the named principal, which only a
// tenant owner may name. An owner cannot mint for itself.
func (s Signer) Subject(runAs string) (kind, id string, err error) {
	if runAs == "" {
		if s.Kind == "client" {
			return "", "", fault.InvalidRequest("a tenant owner cannot generate a token for itself; name a user or device in run_as").WithField("run_as")
		}
		return s.Kind, s.ID, nil
	}
	if !s.Owner {
		return "", "", fault.InvalidRequest("run_as is allowed only for tenant owners").WithField("run_as")
	}
	kind, id, ok := strings.Cut(runAs, ":")
	if !ok || (kind != "device" && kind != "user") {
		return "", "", fault.InvalidRequest("run_as must be device:ID or user:ID").WithField("run_as")
	}
	return kind, id, nil
}
