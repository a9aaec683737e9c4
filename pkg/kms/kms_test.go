package kms

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/receipts"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestReceipts: a receipt signed by an ECC_NIST_P256 key in moto's KMS
// verifies against the JWKS of its public key alone, and not against
// another key's; a changed payload does not verify. The recipients' keyed
// hash is the same from every environment (the key derived the same) and
// another for another fiscal code.
func TestReceipts(t *testing.T) {
	ctx := context.Background()
	c := kms.NewFromConfig(awstest.Config(awstest.Endpoint(t)))
	key := func(spec types.KeySpec, usage types.KeyUsageType) string {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.KeyMetadata.KeyId)
	}
	signing, other := key(types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify), key(types.KeySpecEccNistP256, types.KeyUsageTypeSignVerify)
	p := receipts.Payload{Version: 1, Event: receipts.Opened, MessageID: "01MSG", SenderServiceID: "svc", OpenedAt: "2026-12-07T10:00:00.000Z"}
	jws, err := receipts.Sign(ctx, Signer{API: c, Key: signing}, p)
	if err != nil {
		t.Fatal(err)
	}
	set, err := (&PublicKeys{API: c, Keys: []string{signing}}).JWKS(ctx)
	if err != nil || len(set.Keys) != 1 || set.Keys[0].Kid != signing || set.Keys[0].Alg != "ES256" {
		t.Fatalf("JWKS %+v %v", set, err)
	}
	got, err := receipts.Verify(jws, set)
	if err != nil || got.MessageID != "01MSG" || got.OpenedAt != p.OpenedAt {
		t.Fatalf("verify: %+v %v", got, err)
	}
	otherSet, err := (&PublicKeys{API: c, Keys: []string{other}}).JWKS(ctx)
	if err != nil {
		t.Fatal(err)
	}
	otherSet.Keys[0].Kid = signing // another key under the same name
	if _, err := receipts.Verify(jws, otherSet); !errors.Is(err, receipts.ErrInvalid) {
		t.Fatalf("verified by another key: %v", err)
	}
	// Another message's payload under this receipt's signature.
	p.MessageID = "01OTHER"
	another, err := receipts.Sign(ctx, Signer{API: c, Key: signing}, p)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := strings.Split(jws, "."), strings.Split(another, ".")
	if _, err := receipts.Verify(mine[0]+"."+theirs[1]+"."+mine[2], set); !errors.Is(err, receipts.ErrInvalid) {
		t.Fatalf("a swapped payload verified: %v", err)
	}

	hashKey := key(types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac)
	a, err := (&Hasher{API: c, Key: hashKey}).Recipient(ctx, "SPNDNL80R13C555X")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := (&Hasher{API: c, Key: hashKey}).Recipient(ctx, "SPNDNL80R13C555X")
	d, _ := (&Hasher{API: c, Key: hashKey}).Recipient(ctx, "MRARSS85T10H501Z")
	if a != b || a == d || len(a) < len("hmac-sha256:")+40 {
		t.Fatalf("keyed hashes %q %q %q", a, b, d)
	}
}
