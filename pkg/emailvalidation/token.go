// Package emailvalidation proves that a citizen owns the profile's e-mail
// address before any notification goes to it. Setting or changing the
// address (a profile event) or asking again (startEmailValidationProcess)
// e-mails a link with a single-use token: a random id plus a random
// validator, of which only the SHA-256 hash is stored, valid for 30 days.
// Following the link (validate-email, a public operation) records the
// address as validated, unless the citizen changed it meanwhile.
package emailvalidation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/ids"
)

// Validity is how long a link can be followed.
const Validity = 30 * 24 * time.Hour

// Token is a stored validation token: who asked, for which address, and the
// hash of its validator.
type Token struct {
	ID            string
	FiscalCode    string
	Email         string
	ValidatorHash string
	ExpiresAt     time.Time
}

// Store keeps tokens and what was validated.
type Store interface {
	// PutToken stores t.
	PutToken(ctx context.Context, t Token) error
	// Token returns the token id; problem.ErrNotFound when there is none
	// (never issued, used, or removed after it expired).
	Token(ctx context.Context, id string) (Token, error)
	// Validate removes t and records t.Email as the citizen's validated
	// address, in one write; problem.ErrNotFound when t was used meanwhile.
	Validate(ctx context.Context, t Token, at time.Time) error
	// Started returns the key of the last validation request e-mailed for
	// the citizen ("" if none).
	Started(ctx context.Context, fiscalCode string) (string, error)
	// MarkStarted records that the request key was e-mailed with the
	// token tokenID (the citizen's tokens are remembered, so that an
	// erasure finds them).
	MarkStarted(ctx context.Context, fiscalCode, key, tokenID string) error
}

// NewToken issues a token for the citizen's address: the stored token and
// the secret the link carries ("<id>:<validator>").
func NewToken(fiscalCode, email string, now time.Time) (Token, string) {
	var v [32]byte
	_, _ = rand.Read(v[:]) // never fails (crypto/rand)
	validator := base64.RawURLEncoding.EncodeToString(v[:])
	t := Token{ID: ids.ULID(now), FiscalCode: fiscalCode, Email: email, ValidatorHash: hash(validator), ExpiresAt: now.Add(Validity)}
	return t, t.ID + ":" + validator
}

func hash(validator string) string {
	h := sha256.Sum256([]byte(validator))
	return hex.EncodeToString(h[:])
}

// parseSecret splits a link's token into id and validator.
func parseSecret(s string) (id, validator string, ok bool) {
	id, validator, ok = strings.Cut(s, ":")
	if !ok || len(id) != 26 || len(validator) != 43 {
		return "", "", false
	}
	for _, c := range id + validator {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-' || c == '_') {
			return "", "", false
		}
	}
	return id, validator, true
}

// matches reports, in constant time, whether validator is t's.
func (t Token) matches(validator string) bool {
	return subtle.ConstantTimeCompare([]byte(hash(validator)), []byte(t.ValidatorHash)) == 1
}
