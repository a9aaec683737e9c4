// Package apiclient is a Go client of the platform's public API (/api/v1)
// and admin API (/adm), generated from the descriptions the platform serves
// (package openapi) by oapi-codegen: api.gen.go holds a typed method and a
// typed response for every operation, responses.gen.go an Err method on each
// response. go generate ./pkg/apiclient writes them; a test fails when they
// are stale.
//
// What the generator does not give is here: New signs every request with a
// subscription key and sends it through a Retrier, which paces requests,
// retries a 429 after its Retry-After and a 5xx or a network error with
// back-off (for requests safe to repeat: GET, PUT, DELETE, or any carrying an
// Idempotency-Key), and Err turns a refusal into a *Problem, the
// problem+json the API answered.
//
//	c, _ := apiclient.New("http://127.0.0.1:3000", apiclient.Options{Key: key, Attempts: 5})
//	key := "tari-2026-row-2"
//	r, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithResponse(ctx,
//		&apiclient.SubmitMessageforUserWithFiscalCodeInBodyParams{IdempotencyKey: &key}, message)
//	if err == nil {
//		err = r.Err()
//	}
//	var p *apiclient.Problem
//	if errors.As(err, &p) && p.Status == 429 { ... p.RetryAfter ... }
package apiclient

//go:generate go run ./gen
