package principal

import (
	"context"
	"testing"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

func TestPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h, err := HashPassword(ctx, "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := CheckPassword(ctx, h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, _ := CheckPassword(ctx, h, "wrong horse"); ok {
		t.Fatal("wrong password accepted")
	}
	for _, bad := range []string{"", "$argon2id$", "$bcrypt$v=19$m=1,t=1,p=1$aa$bb", h + "x$"} {
		if ok, err := CheckPassword(ctx, bad, "x"); ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v", bad, ok, err)
		}
	}
}

func TestSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gen, genHash := NewSecret(token.TagClientSecret)
	other, _ := NewSecret(token.TagClientSecret)
	chosenHash, alg, err := HashSecret(ctx, "a person chose this")
	if err != nil || alg != store.SecretArgon2id {
		t.Fatalf("HashSecret: %v %v", alg, err)
	}
	// The work spent depends on the presented secret only: the same for a
	// client that does not exist (nil hash) and for either stored kind.
	for _, tc := range []struct {
		name   string
		hash   []byte
		alg    string
		secret string
		ok     bool
		work   string
	}{
		{"generated, right", genHash, store.SecretSHA256, gen, true, store.SecretSHA256},
		{"generated, wrong", genHash, store.SecretSHA256, other, false, store.SecretSHA256},
		{"generated, altered", genHash, store.SecretSHA256, gen + "x", false, store.SecretArgon2id},
		{"generated stored, chosen presented", genHash, store.SecretSHA256, "a person chose this", false, store.SecretArgon2id},
		{"chosen, right", chosenHash, store.SecretArgon2id, "a person chose this", true, store.SecretArgon2id},
		{"chosen, wrong", chosenHash, store.SecretArgon2id, "a person chose that", false, store.SecretArgon2id},
		{"chosen stored, generated presented", chosenHash, store.SecretArgon2id, gen, false, store.SecretSHA256},
		{"unknown client, generated presented", nil, "", gen, false, store.SecretSHA256},
		{"unknown client, chosen presented", nil, "", "a person chose this", false, store.SecretArgon2id},
		{"corrupt stored hash", []byte("$argon2id$"), store.SecretArgon2id, "a person chose this", false, store.SecretArgon2id},
		{"empty secret", genHash, store.SecretSHA256, "", false, ""},
		{"empty secret, unknown client", nil, "", "", false, ""},
	} {
		ok, work, err := CheckSecret(ctx, tc.hash, tc.alg, tc.secret)
		if ok != tc.ok || work != tc.work || err != nil {
			t.Errorf("%s: CheckSecret = %v, %q, %v; want %v, %q", tc.name, ok, work, err, tc.ok, tc.work)
		}
	}
}

func TestNames(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{"acme": true, "a-b_c.d": true, "9x": true, "": false, "-a": false, "Acme": false, "a b": false, string(make([]byte, 65)): false} {
		if err := ValidID(id); (err == nil) != ok {
			t.Errorf("ValidID(%q) = %v", id, err)
		}
	}
	for in, want := range map[string]string{" Alice@Example.COM ": "alice@example.com", "bob": "bob", "Ｂｏｂ": "bob"} {
		got, err := NormalizeLogin(in)
		if err != nil || got != want {
			t.Errorf("NormalizeLogin(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "a b", "x@", "@@"} {
		if _, err := NormalizeLogin(bad); err == nil {
			t.Errorf("NormalizeLogin(%q) accepted", bad)
		}
	}
}

// TestImportedBcrypt: bcrypt hashes as PHP's password_hash and other
// frameworks make them are accepted for import and checked; malformed or
// too costly ones are refused.
func TestImportedBcrypt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// PHP manual's password_verify example: "rasmuslerdorf" at cost 7.
	const php = "$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq"
	if h, err := ImportedHash(php); err != nil || h != php {
		t.Fatalf("ImportedHash(php) = %q, %v", h, err)
	}
	if ok, err := CheckPassword(ctx, php, "rasmuslerdorf"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, err := CheckPassword(ctx, php, "rasmuslerdorF"); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	if !NeedsRehash(php) {
		t.Error("a bcrypt hash needs a rehash")
	}
	// The same hash under the other prefixes is the same algorithm.
	for _, prefix := range []string{"$2a$", "$2b$"} {
		if ok, err := CheckPassword(ctx, prefix+php[4:], "rasmuslerdorf"); !ok || err != nil {
			t.Errorf("%s: %v %v", prefix, ok, err)
		}
	}
	argon, err := HashPassword(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	if h, err := ImportedHash(argon); err != nil || h != argon || NeedsRehash(argon) {
		t.Errorf("ImportedHash(argon2id) = %q, %v", h, err)
	}
	for _, bad := range []string{
		"", "secret", "$2y$07$short",
		"$2y$03$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", // cost below 4
		"$2y$15$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", // cost above 14
		"$2y$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpO!", // not bcrypt base64
		"$2x$07$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", // unknown variant
		"$argon2id$v=19$m=0,t=1,p=1$YWFhYQ$YmJiYg",
	} {
		if h, err := ImportedHash(bad); err == nil {
			t.Errorf("ImportedHash(%q) = %q, want an error", bad, h)
		}
	}
	// A too costly hash that reached the store matches nothing.
	if ok, err := CheckPassword(ctx, "$2y$15$BCryptRequires22Chrcte/VlQH0piJtjXl.0t1XkA8pw9dMXTpOq", "rasmuslerdorf"); ok || err == nil {
		t.Errorf("cost 15: %v %v", ok, err)
	}
}
