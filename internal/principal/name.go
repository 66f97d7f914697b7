package principal

import (
	"fmt"
	"net/mail"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// ValidID reports whether id is a valid identifier for a tenant, project,
// client, device, role or group: 1 to 64 characters of lowercase letters,
// digits, '-', '_' and '.', starting with a letter or digit.
func ValidID(id string) error {
	if id == "" {
		return fmt.Errorf("must not be empty")
	}
	if len(id) > 64 {
		return fmt.Errorf("must be at most 64 characters")
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return fmt.Errorf("must be lowercase letters, digits, '-', '_' or '.', starting with a letter or digit")
		}
	}
	return nil
}

// NormalizeLogin returns the canonical form of a login: NFKC, trimmed,
// lowercased. A login containing '@' must be an e-mail address.
func NormalizeLogin(login string) (string, error) {
	l := strings.ToLower(strings.TrimSpace(norm.NFKC.String(login)))
	if l == "" {
		return "", fmt.Errorf("must not be empty")
	}
	if len(l) > 254 {
		return "", fmt.Errorf("must be at most 254 characters")
	}
	for _, c := range l {
		if unicode.IsSpace(c) || unicode.IsControl(c) {
			return "", fmt.Errorf("must not contain spaces or control characters")
		}
	}
	if strings.Contains(l, "@") {
		a, err := mail.ParseAddress(l)
		if err != nil || a.Address != l {
			return "", fmt.Errorf("is not a valid e-mail address")
		}
	}
	return l, nil
}

// ValidPassword checks a password a person chose (NIST SP 800-63B §3.1.1.2:
// at least 8 characters, long passphrases allowed).
func ValidPassword(p string) error {
	n := len([]rune(p))
	if n < 8 {
		return fmt.Errorf("must be at least 8 characters")
	}
	if len(p) > 1024 {
		return fmt.Errorf("must be at most 1024 bytes")
	}
	return nil
}
