package apiclient_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/digital-citizenship/functions/pkg/apiclient"
)

// A submission with an Idempotency-Key: a 429 is waited out (up to
// MaxWait) and tried again, as is a 5xx; a refusal is an *apiclient.Problem.
// The portal's quick start shows the same, with the developer's key.
func ExampleNew() {
	ctx := context.Background()
	c, err := apiclient.New("http://127.0.0.1:3000", apiclient.Options{Key: "<subscription key>", Attempts: 5})
	if err != nil {
		panic(err)
	}
	idem := "tari-2026:row-2"
	r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx,
		&apiclient.SubmitMessageforUserWithFiscalCodeInBodyParams{IdempotencyKey: &idem},
		apiclient.NewMessageWithFiscalCode{FiscalCode: "SPNDNL80R13C555X",
			Content: apiclient.MessageContent{Subject: "Avviso TARI 2026", Markdown: "Gentile cittadino, è disponibile il nuovo avviso di pagamento."}})
	if err == nil {
		err = r.Err()
	}
	var p *apiclient.Problem
	switch {
	case errors.As(err, &p) && p.Status == 429:
		fmt.Println("try again in", p.RetryAfter)
	case err != nil:
		fmt.Println(err)
	default:
		fmt.Println("message", *r.JSON201.Id)
	}

	// The original's form, the fiscal code in the path, with a body as it is.
	r2, err := c.SubmitMessageforUserWithBodyWithResponse(ctx, "SPNDNL80R13C555X",
		&apiclient.SubmitMessageforUserParams{IdempotencyKey: &idem}, "application/json",
		strings.NewReader(`{"content":{"subject":"Avviso TARI 2026","markdown":"..."}}`))
	if err == nil {
		err = r2.Err()
	}
	fmt.Println(err)
}
