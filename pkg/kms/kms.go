// Package kms signs the receipts of legal events with AWS KMS: an
// asymmetric key (ECC_NIST_P256, SIGN_VERIFY) signs (receipts.Signer) and
// publishes its public key (receipts' JWKS); an HMAC key (HMAC_256) derives
// the key of the recipients' keyed hashes (receipts.Hasher). Neither key
// leaves KMS.
package kms

import (
	"context"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/digital-citizenship/functions/pkg/receipts"
)

// API is the part of the KMS client the adapters use.
type API interface {
	Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	GenerateMac(context.Context, *kms.GenerateMacInput, ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
}

// Signer signs receipts with an ECC_NIST_P256 key (receipts.Signer).
type Signer struct {
	API API
	// Key is the key's id (what the template's Ref gives): the receipts'
	// kid.
	Key string
}

// KeyID implements receipts.Signer: the key's id, without an ARN's prefix.
func (s Signer) KeyID() string { return KeyID(s.Key) }

// KeyID returns the id of a key named by id or ARN.
func KeyID(key string) string {
	if i := strings.LastIndex(key, "key/"); strings.HasPrefix(key, "arn:") && i >= 0 {
		return key[i+len("key/"):]
	}
	return key
}

// maxRaw is the longest message KMS signs as it is (it hashes it).
const maxRaw = 4096

// Sign implements receipts.Signer: ECDSA_SHA_256 of the input, in JWS's
// raw form. KMS hashes an input of up to 4 KiB itself (a receipt's is
// about 1 KiB); a longer one is sent as its digest. (moto hashes a digest
// again: the local stack signs RAW inputs only.)
func (s Signer) Sign(ctx context.Context, input []byte) ([]byte, string, error) {
	in := &kms.SignInput{KeyId: &s.Key, Message: input, MessageType: types.MessageTypeRaw,
		SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}
	if len(input) > maxRaw {
		d := sha256.Sum256(input)
		in.Message, in.MessageType = d[:], types.MessageTypeDigest
	}
	out, err := s.API.Sign(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("kms sign: %w", err)
	}
	sig, err := receipts.RawSignature(out.Signature)
	if err != nil {
		return nil, "", fmt.Errorf("kms sign: %w", err)
	}
	return sig, s.KeyID(), nil
}

// PublicKeys returns the JWKS of the signing keys: each one's public key,
// read once per execution environment.
type PublicKeys struct {
	API  API
	Keys []string

	mu   sync.Mutex
	jwks *receipts.JWKS
}

// JWKS returns the keys' set.
func (p *PublicKeys) JWKS(ctx context.Context) (receipts.JWKS, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.jwks != nil {
		return *p.jwks, nil
	}
	set := receipts.JWKS{Keys: []receipts.JWK{}}
	for _, k := range p.Keys {
		out, err := p.API.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(k)})
		if err != nil {
			return receipts.JWKS{}, fmt.Errorf("kms get public key: %w", err)
		}
		pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
		ec, ok := pub.(*ecdsa.PublicKey)
		if err != nil || !ok {
			return receipts.JWKS{}, fmt.Errorf("kms get public key: key %s is not an ECDSA key", KeyID(k))
		}
		set.Keys = append(set.Keys, receipts.NewJWK(KeyID(k), ec))
	}
	p.jwks = &set
	return set, nil
}

// Hasher gives the recipients' keyed hashes (receipts.Hasher): HMAC-SHA256
// of the fiscal code, keyed by a key derived from a KMS HMAC key (KMS's MAC
// of a fixed label, the same in every environment). The derived key is
// made once per execution environment, so a hash costs no request.
type Hasher struct {
	API API
	Key string

	mu      sync.Mutex
	derived []byte
}

// Label is what the derived key is KMS's MAC of: a new label is a new key.
const Label = "digital-citizenship/receipts/recipient/v1"

// Recipient implements receipts.Hasher.
func (h *Hasher) Recipient(ctx context.Context, fiscalCode string) (string, error) {
	key, err := h.key(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(fiscalCode))
	return "hmac-sha256:" + base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

func (h *Hasher) key(ctx context.Context) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.derived != nil {
		return h.derived, nil
	}
	out, err := h.API.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: &h.Key, Message: []byte(Label), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil {
		return nil, fmt.Errorf("kms generate mac: %w", err)
	}
	h.derived = out.Mac
	return h.derived, nil
}

var (
	_ receipts.Signer = Signer{}
	_ receipts.Hasher = (*Hasher)(nil)
)
