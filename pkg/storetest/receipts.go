package storetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"sync"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

// Signer is an in-memory receipts.Signer: a P-256 key of its own.
type Signer struct {
	Kid string
	key *ecdsa.PrivateKey
}

// NewSigner returns a signer with a new key.
func NewSigner(kid string) *Signer {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &Signer{Kid: kid, key: k}
}

// KeyID implements receipts.Signer.
func (s *Signer) KeyID() string { return s.Kid }

// Sign implements receipts.Signer.
func (s *Signer) Sign(_ context.Context, input []byte) ([]byte, string, error) {
	d := sha256.Sum256(input)
	r, ss, err := ecdsa.Sign(rand.Reader, s.key, d[:])
	if err != nil {
		return nil, "", err
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	ss.FillBytes(out[32:])
	return out, s.Kid, nil
}

// JWKS is the set of the signer's public key.
func (s *Signer) JWKS() receipts.JWKS {
	return receipts.JWKS{Keys: []receipts.JWK{receipts.NewJWK(s.Kid, &s.key.PublicKey)}}
}

// Hasher is an in-memory receipts.Hasher: HMAC-SHA256 with a fixed key.
type Hasher struct{}

// Recipient implements receipts.Hasher.
func (Hasher) Recipient(_ context.Context, fc string) (string, error) {
	m := hmac.New(sha256.New, []byte("storetest-recipient-key"))
	m.Write([]byte(fc))
	return "hmac-sha256:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// Receipts is an in-memory receipts.Archive: each key written once.
type Receipts struct {
	mu sync.Mutex
	r  map[string][]byte
	// FailCreates, when above 0, fails that many creates.
	FailCreates int
}

// Create implements receipts.Archive.
func (a *Receipts) Create(_ context.Context, key string, jws []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.FailCreates > 0 {
		a.FailCreates--
		return errors.New("storage down")
	}
	if a.r == nil {
		a.r = map[string][]byte{}
	}
	if _, ok := a.r[key]; ok {
		return problem.ErrConflict
	}
	a.r[key] = jws
	return nil
}

// Get implements receipts.Archive.
func (a *Receipts) Get(_ context.Context, key string) ([]byte, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, ok := a.r[key]
	if !ok {
		return nil, problem.ErrNotFound
	}
	return b, nil
}

// Len returns how many receipts are kept.
func (a *Receipts) Len() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.r)
}
