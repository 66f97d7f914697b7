package directory

import (
	"context"
	"slices"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// TagSigningSecret tags signing secrets (tkd_ss_...).
const TagSigningSecret = "ss"

// Principals that sign token requests.
var signers = []string{"device", "user", "client"}

// RotateSigningSecret gives a device, user or client a new signing secret
// for signed token requests and returns it, shown this once. It is stored
// sealed under the master key (the server must recompute each HMAC, so a
// hash would not do); the previous secret stops working.
func (s *Service) RotateSigningSecret(ctx context.Context, by Actor, ten, kind, id string) (string, error) {
	if !slices.Contains(signers, kind) {
		return "", invalidf("kind", "must be device, user or client")
	}
	secret := token.NewOpaque(TagSigningSecret)
	sealed, err := s.keys.SealSecret(ten, signingLabel(kind, id), []byte(secret))
	if err != nil {
		return "", storeErr(err)
	}
	err = s.change(ctx, by, ten, kind+".signing_secret", id, nil, func(st store.Store) error {
		now := s.stamp()
		switch kind {
		case "device":
			d, err := st.Devices().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			d.SigningSecret, d.UpdatedAt = sealed, now
			return st.Devices().Update(ctx, d)
		case "user":
			u, err := st.Users().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			u.SigningSecret, u.UpdatedAt = sealed, now
			return st.Users().Update(ctx, u)
		default:
			c, err := st.Clients().Get(ctx, ten, id)
			if err != nil {
				return notFound(err, kind, id)
			}
			c.SigningSecret, c.UpdatedAt = sealed, now
			return st.Clients().Update(ctx, c)
		}
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Signer is a principal that signs token requests, with its secret.
type Signer struct {
	Kind, ID string
	Secret   []byte
	// Owner is true for a client allowed tokend:admin: it may mint for
	// users and devices (run_as).
	Owner bool
}

// SigningSecret returns the principal's signing secret, or not_found when
// it has none (or does not exist, or is disabled).
func (s *Service) SigningSecret(ctx context.Context, ten, kind, id string) (Signer, error) {
	var sealed []byte
	owner := false
	switch kind {
	case "device":
		d, err := s.st.Devices().Get(ctx, ten, id)
		if err != nil || d.Disabled {
			return Signer{}, notFound(orNotFound(err), kind, id)
		}
		sealed = d.SigningSecret
	case "user":
		u, err := s.st.Users().Get(ctx, ten, id)
		if err != nil || u.Disabled {
			return Signer{}, notFound(orNotFound(err), kind, id)
		}
		sealed = u.SigningSecret
	case "client":
		c, err := s.st.Clients().Get(ctx, ten, id)
		if err != nil || c.Disabled {
			return Signer{}, notFound(orNotFound(err), kind, id)
		}
		sealed, owner = c.SigningSecret, slices.Contains(c.Scopes, "tokend:admin")
	default:
		return Signer{}, invalidf("principal", "must be device:ID, user:ID or client:ID")
	}
	if len(sealed) == 0 {
		return Signer{}, notFound(store.ErrNotFound, kind+" signing secret", id)
	}
	plain, err := s.keys.OpenSecret(ten, signingLabel(kind, id), sealed)
	if err != nil {
		return Signer{}, storeErr(err)
	}
	return Signer{Kind: kind, ID: id, Secret: plain, Owner: owner}, nil
}

func orNotFound(err error) error {
	if err == nil {
		return store.ErrNotFound
	}
	return err
}

// ClientSigningKey returns a client's signing secret, the key of its
// client_secret_jwt assertions.
func (s *Service) ClientSigningKey(ctx context.Context, ten, clientID string) ([]byte, error) {
	sg, err := s.SigningSecret(ctx, ten, "client", clientID)
	return sg.Secret, err
}
