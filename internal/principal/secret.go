package principal

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/secure/precis"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// Argon2id parameters (RFC 9106 §4 second recommended option, scaled to
// OWASP's 19 MiB / t=2 floor for interactive logins).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ErrBadHash reports a stored hash that cannot be parsed.
var ErrBadHash = errors.New("principal: malformed password hash")

// hashSlots bounds concurrent argon2id work.
// Half the CPUs at most: a flood of logins always leaves the other half to
// token validation and issuance.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))

func acquire(ctx context.Context) error {
	select {
	case hashSlots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func release() { <-hashSlots }

// HashPassword returns the argon2id PHC string of password.
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	if err := acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	release()
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches the stored hash encoded,
// in constant time: an argon2id PHC string, or a bcrypt hash imported from
// another system (ImportedHash). An empty encoded hash never matches.
func CheckPassword(ctx context.Context, encoded, password string) (bool, error) {
	if isBcrypt(encoded) {
		return checkBcrypt(ctx, encoded, password)
	}
	a, err := parseArgon2id(encoded)
	if err != nil {
		return false, err
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), a.salt, a.t, a.m, a.p, uint32(len(a.key)))
	release()
	return subtle.ConstantTimeCompare(got, a.key) == 1, nil
}

// argon2idHash is a parsed argon2id PHC string.
type argon2idHash struct {
	m, t      uint32
	p         uint8
	salt, key []byte
}

func parseArgon2id(encoded string) (argon2idHash, error) {
	var a argon2idHash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return a, ErrBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return a, ErrBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &a.m, &a.t, &a.p); err != nil || a.m == 0 || a.t == 0 || a.p == 0 || a.m > 1<<20 || a.t > 16 {
		return a, ErrBadHash
	}
	var err error
	if a.salt, err = base64.RawStdEncoding.DecodeString(parts[4]); err != nil {
		return a, ErrBadHash
	}
	a.key, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(a.key) == 0 || len(a.key) > 64 {
		return a, ErrBadHash
	}
	return a, nil
}

// Bounds of an imported bcrypt hash's cost: below 4 no implementation
// makes one; above 14 one check takes over a second of CPU, which a login
// flood would turn into an outage.
const (
	minBcryptCost = 4
	maxBcryptCost = 14
)

// isBcrypt reports whether encoded is a bcrypt hash in the modular crypt
// format: $2a$, $2b$ (OpenBSD) or $2y$ (PHP's password_hash).
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func isBcrypt(encoded string) bool {
	return len(encoded) == 60 && (strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$"))
}

func checkBcrypt(ctx context.Context, encoded, password string) (bool, error) {
	cost, err := bcrypt.Cost([]byte(encoded))
	if err != nil || cost < minBcryptCost || cost > maxBcryptCost {
		return false, ErrBadHash
	}
	if err := acquire(ctx); err != nil {
		return false, err
	}
	// Like every bcrypt, only the first 72 bytes of the password count.
	err = bcrypt.CompareHashAndPassword([]byte(encoded), []byte(password))
	release()
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	default:
		return false, ErrBadHash
	}
}

// ImportedHash validates a password hash brought over from another
// system and returns it as tokend stores it: an argon2id PHC string, or a
// bcrypt hash ($2a$, $2b$ or $2y$, cost 4 to 14, as PHP's password_hash,
// Ruby's bcrypt and most frameworks make them). A bcrypt hash is replaced
// by an argon2id hash of the same password at the user's next successful
// login (NeedsRehash).
func ImportedHash(encoded string) (string, error) {
	if isBcrypt(encoded) {
		cost, err := bcrypt.Cost([]byte(encoded))
		if err != nil {
			return "", fmt.Errorf("not a valid bcrypt hash")
		}
		if cost < minBcryptCost || cost > maxBcryptCost {
			return "", fmt.Errorf("bcrypt cost %d is outside %d to %d", cost, minBcryptCost, maxBcryptCost)
		}
		// 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
		if encoded[6] != '$' || strings.Trim(encoded[7:], bcryptAlphabet) != "" {
			return "", fmt.Errorf("not a valid bcrypt hash")
		}
		return encoded, nil
	}
	if _, err := parseArgon2id(encoded); err != nil {
		return "", fmt.Errorf("must be an argon2id PHC string ($argon2id$v=19$m=...,t=...,p=...$salt$hash) or a bcrypt hash ($2a$, $2b$ or $2y$)")
	}
	return encoded, nil
}

// NeedsRehash reports whether a stored password hash is of an imported
// kind that a successful login replaces with argon2id.
func NeedsRehash(encoded string) bool { return isBcrypt(encoded) }

// PreparePassword returns the form of a password that is hashed and
// compared: RFC 8265 §4.2 OpaqueString (non-ASCII spaces mapped to U+0020,
// NFC), so that "é" typed composed or decomposed is one password. It
// fails for an empty password or one holding characters the profile
// disallows (controls, unassigned code points).
func PreparePassword(password string) (string, error) {
	p, err := precis.OpaqueString.String(password)
	if err != nil {
		return "", fmt.Errorf("must not be empty or contain control or unassigned characters (RFC 8265 OpaqueString)")
	}
	return p, nil
}

// VerifyPassword reports whether password, as a person typed it, matches
// the PHC string encoded, in constant time. The prepared form is compared
// (PreparePassword); when the typed form differs from it, that is compared
// too, because hashes made before passwords were prepared hold the bytes
// as they were typed, which only the same bytes match. The second check
// cannot admit a wrong password: a prepared hash never matches an
// unprepared form, and a raw hash matches only the bytes it was made of.
func VerifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	p, perr := PreparePassword(password)
	if perr == nil {
		if ok, err := CheckPassword(ctx, encoded, p); ok || err != nil {
			return ok, err
		}
		if p == password {
			return false, nil
		}
	}
	return CheckPassword(ctx, encoded, password)
}

// dummyHash is checked when no account exists, so that the response time
// does not reveal whether it does.
var dummyHash = func() string {
	h, err := HashPassword(context.Background(), "tokend-dummy-password")
	if err != nil {
		panic(err)
	}
	return h
}()

// CheckDummy spends the time of VerifyPassword for password and returns
// false.
func CheckDummy(ctx context.Context, password string) {
	_, _ = VerifyPassword(ctx, dummyHash, password)
}

// NewSecret returns a generated secret with tag and its stored hash.
func NewSecret(tag string) (secret string, hash []byte) {
	s := token.NewOpaque(tag)
	return s, token.Hash(s)
}

// HashSecret returns the stored form of a secret: SHA-256 for well-formed
// generated secrets, argon2id for anything a person chose.
func HashSecret(ctx context.Context, secret string) (hash []byte, alg string, err error) {
	if _, err := token.ParseOpaque(secret); err == nil {
		return token.Hash(secret), store.SecretSHA256, nil
	}
	h, err := HashPassword(ctx, secret)
	return []byte(h), store.SecretArgon2id, err
}

// dummySecretHash stands in for the SHA-256 of a client that does not exist.
var dummySecretHash = token.Hash("tokend-dummy-secret")

// CheckSecret compares a presented client secret with a stored hash in
// constant time. hash is nil for a client that does not exist.
//
// The work it spends depends only on the presented secret, never on
// whether the client exists nor on how its secret is stored, so that the
// response time does not tell them apart: HashSecret stores a generated
// secret (a well-formed opaque value) as SHA-256 and anything else as
// argon2id, so a well-formed secret costs one SHA-256 and anything else one
// argon2id check — against the stored hash when it is of that kind, and
// against a dummy, where it cannot match, when it is not. An empty secret
// matches nothing and costs nothing. work is the hash spent
// (store.SecretSHA256, store.SecretArgon2id, or "" for none).
func CheckSecret(ctx context.Context, hash []byte, alg, secret string) (ok bool, work string, err error) {
	if secret == "" {
		return false, "", nil
	}
	if _, err := token.ParseOpaque(secret); err == nil {
		stored := alg == store.SecretSHA256 && len(hash) > 0
		want := dummySecretHash
		if stored {
			want = hash
		}
		match := subtle.ConstantTimeCompare(token.Hash(secret), want) == 1
		return match && stored, store.SecretSHA256, nil
	}
	// An imported bcrypt hash is checked like an argon2id one; its cost is
	// the other system's (between 4 and 14).
	stored := alg == store.SecretArgon2id || alg == store.SecretBcrypt
	encoded := dummyHash
	if stored {
		encoded = string(hash)
	}
	match, err := CheckPassword(ctx, encoded, secret)
	if errors.Is(err, ErrBadHash) {
		// A stored hash that does not parse matches nothing; spend the
		// dummy's work all the same.
		_, err = CheckPassword(ctx, dummyHash, secret)
		return false, store.SecretArgon2id, err
	}
	return match && stored, store.SecretArgon2id, err
}
