// Package receipts gives the sender of an act evidence a third party can
// check: a signed receipt of each legal event of a message, its opening by
// the citizen (message.opened) or its non-opening by the deadline of a
// message with an opening condition (message.not_opened).
//
// A receipt is a JWS (compact serialization, ES256) signed by a KMS
// asymmetric key (ECC_NIST_P256) that never leaves KMS; the public keys are
// published anonymously as a JWKS (GET /api/v1/receipts/keys), so anyone
// can check a receipt offline (dcp receipt verify). Its payload names the
// message, its sender, a keyed hash of the recipient's fiscal code (HMAC
// with a key derived from a KMS HMAC key: the platform can confirm a
// recipient, a reader of the receipt cannot guess one), the digest of what
// was delivered (subject, markdown, payment data, due date; each
// document's SHA-256; or the sender's id and the digest of what the
// sender's system answered, for remote content), the digest of the opening
// condition, the times, and the digest of the message's previous legal
// event: each message's receipts form a hash chain. Receipts are written
// once to a bucket with S3 Object Lock in COMPLIANCE mode (10 years by
// default): nobody, the platform included, can change or delete them
// before then.
package receipts

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

// The legal events a receipt proves.
const (
	Opened    = "message.opened"
	NotOpened = "message.not_opened"
)

// Payload is what a receipt signs.
type Payload struct {
	// Version of the payload's layout.
	Version         int    `json:"v"`
	Event           string `json:"event"`
	MessageID       string `json:"message_id"`
	SenderServiceID string `json:"sender_service_id"`
	// Recipient is the keyed hash of the recipient's fiscal code:
	// "hmac-sha256:" and base64url.
	Recipient string  `json:"recipient"`
	Content   Content `json:"content"`
	// Precondition is the opening condition the citizen accepted (or was
	// to accept), when the message has one.
	Precondition *Precondition `json:"precondition,omitempty"`
	CreatedAt    string        `json:"created_at"`
	DeliveredAt  string        `json:"delivered_at"`
	// OpenedAt is the opening's time; DeadlineAt the deadline a
	// non-opening passed, NotOpenedAt when it was recorded.
	OpenedAt    string `json:"opened_at,omitempty"`
	DeadlineAt  string `json:"deadline_at,omitempty"`
	NotOpenedAt string `json:"not_opened_at,omitempty"`
	// Prev is the digest of the payload of the message's previous legal
	// event (none for its first).
	Prev string `json:"prev,omitempty"`
}

// Content is the digest of what was delivered.
type Content struct {
	// Digest covers the stored content: ContentDigest.
	Digest    string     `json:"digest"`
	Documents []Document `json:"documents,omitempty"`
	// Remote is, for content kept at the sender's, the sender's id of the
	// message and the digest of its system's answer at the opening.
	Remote *Remote `json:"remote,omitempty"`
}

// Document is a document delivered with the message.
type Document struct {
	ID     string `json:"id"`
	SHA256 string `json:"sha256"`
}

// Remote is the sender's side of content kept at the sender's.
type Remote struct {
	ID     string `json:"id"`
	Digest string `json:"digest,omitempty"`
}

// Precondition is an opening condition: ALWAYS or ONCE, and the digest of
// the sender's answer that carried its text.
type Precondition struct {
	Kind   string `json:"kind"`
	Digest string `json:"digest,omitempty"`
}

// Bytes is the payload's canonical JSON: the fields in their order, no
// insignificant space, no HTML escaping.
func (p Payload) Bytes() []byte { return canonical(p) }

// Digest is the digest of the payload, what the next legal event's Prev
// names.
func (p Payload) Digest() string { return remotecontent.Digest(p.Bytes()) }

func canonical(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // plain structs and strings: never fails
	return bytes.TrimRight(b.Bytes(), "\n")
}

// ContentDigest is the digest of a message's content as delivered: the
// canonical JSON of {subject, markdown, payment_data, due_date} (as
// getMessage shows them, absent ones left out). Anyone holding the
// content computes it again.
func ContentDigest(c messages.Content) string {
	return remotecontent.Digest(canonical(struct {
		Subject     string                `json:"subject"`
		Markdown    string                `json:"markdown"`
		PaymentData *messages.PaymentData `json:"payment_data,omitempty"`
		DueDate     string                `json:"due_date,omitempty"`
	}{c.Subject, c.Markdown, c.PaymentData, c.DueDate}))
}

// Header is the JWS header of every receipt.
type Header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// Typ is the receipts' JWS type.
const Typ = "io-receipt+jws"

// Signer signs with a private key it keeps: the raw ES256 signature (R||S,
// 64 bytes) of a JWS signing input (ECDSA over its SHA-256), and the key's
// id.
type Signer interface {
	Sign(ctx context.Context, input []byte) (sig []byte, kid string, err error)
	KeyID() string
}

// Sign returns the receipt of p: a JWS in compact serialization.
func Sign(ctx context.Context, s Signer, p Payload) (string, error) {
	head := canonical(Header{Alg: "ES256", Kid: s.KeyID(), Typ: Typ})
	input := b64(head) + "." + b64(p.Bytes())
	sig, _, err := s.Sign(ctx, []byte(input))
	if err != nil {
		return "", fmt.Errorf("sign the receipt: %w", err)
	}
	return input + "." + b64(sig), nil
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JWK is a public key as a JSON Web Key (EC, P-256).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS is a set of public keys.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// NewJWK returns the JWK of an ECDSA P-256 public key.
func NewJWK(kid string, pub *ecdsa.PublicKey) JWK {
	x, y := make([]byte, 32), make([]byte, 32)
	pub.X.FillBytes(x)
	pub.Y.FillBytes(y)
	return JWK{Kty: "EC", Crv: "P-256", X: b64(x), Y: b64(y), Kid: kid, Use: "sig", Alg: "ES256"}
}

// PublicKey returns the key a JWK describes.
func (k JWK) PublicKey() (*ecdsa.PublicKey, error) {
	if k.Kty != "EC" || k.Crv != "P-256" {
		return nil, fmt.Errorf("key %s is not an EC P-256 key", k.Kid)
	}
	x, errX := base64.RawURLEncoding.DecodeString(k.X)
	y, errY := base64.RawURLEncoding.DecodeString(k.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, fmt.Errorf("key %s has a bad x or y", k.Kid)
	}
	pub := &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	if _, err := pub.ECDH(); err != nil { // not on the curve
		return nil, fmt.Errorf("key %s is not on P-256", k.Kid)
	}
	return pub, nil
}

// ErrInvalid is Verify's answer for a receipt that is not one of the keys'.
var ErrInvalid = errors.New("not a valid receipt")

// Verify checks a receipt against a set of public keys, as anyone can
// offline, and returns its payload.
func Verify(jws string, keys JWKS) (Payload, error) {
	parts := strings.Split(strings.TrimSpace(jws), ".")
	if len(parts) != 3 {
		return Payload{}, fmt.Errorf("%w: not a compact JWS", ErrInvalid)
	}
	var h Header
	if err := decodePart(parts[0], &h); err != nil || h.Alg != "ES256" {
		return Payload{}, fmt.Errorf("%w: the header is not ES256", ErrInvalid)
	}
	var key *ecdsa.PublicKey
	for _, k := range keys.Keys {
		if k.Kid == h.Kid {
			pub, err := k.PublicKey()
			if err != nil {
				return Payload{}, fmt.Errorf("%w: %v", ErrInvalid, err)
			}
			key = pub
		}
	}
	if key == nil {
		return Payload{}, fmt.Errorf("%w: no published key %q", ErrInvalid, h.Kid)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return Payload{}, fmt.Errorf("%w: the signature is not 64 bytes of base64url", ErrInvalid)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return Payload{}, fmt.Errorf("%w: the signature does not match", ErrInvalid)
	}
	var p Payload
	if err := decodePart(parts[1], &p); err != nil {
		return Payload{}, fmt.Errorf("%w: the payload is not JSON", ErrInvalid)
	}
	return p, nil
}

func decodePart(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// RawSignature turns an ASN.1 DER ECDSA signature (KMS's) into JWS's
// R||S, each 32 bytes.
func RawSignature(der []byte) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil || sig.R == nil || sig.S == nil {
		return nil, fmt.Errorf("an ECDSA signature that is not DER")
	}
	out := make([]byte, 64)
	sig.R.FillBytes(out[:32])
	sig.S.FillBytes(out[32:])
	return out, nil
}
