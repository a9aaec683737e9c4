package campaign

import (
	"bytes"
	"context"
	"fmt"
	"sync"

	"github.com/digital-citizenship/functions/pkg/apiclient"
)

// Result is what became of one row.
type Result struct {
	Line       int
	FiscalCode string
	MessageID  string
	Error      string
}

// Progress hears of each row done.
type Progress interface {
	Done(r Result)
}

// Send submits rows (POST /api/v1/messages, each with its Idempotency-Key),
// concurrency at a time (the client's Retrier paces and retries them), and
// reports each result as it comes; on ctx's end it stops taking rows and
// returns the results so far with ctx's error.
//
// Every row asks for lane: "bulk" (dcp send's default: a campaign holds up
// no one else's messages) or "normal" (the platform's rule decides).
func Send(ctx context.Context, c *apiclient.ClientWithResponses, rows []Row, concurrency int, lane string, p Progress) ([]Result, error) {
	xLane := apiclient.SubmitMessageforUserWithFiscalCodeInBodyParamsXLane(lane)
	work := make(chan Row)
	out := make(chan Result)
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for row := range work {
				params := &apiclient.SubmitMessageforUserWithFiscalCodeInBodyParams{IdempotencyKey: &row.Key, XLane: &xLane}
				res, err := c.SubmitMessageforUserWithFiscalCodeInBodyWithBodyWithResponse(ctx, params, "application/json", bytes.NewReader(row.Body))
				if err != nil && ctx.Err() != nil {
					continue // interrupted: the row is not done
				}
				if err == nil {
					err = res.Err()
				}
				r := Result{Line: row.Line, FiscalCode: row.FiscalCode}
				switch {
				case err != nil:
					r.Error = err.Error()
				case res.JSON201 != nil && res.JSON201.Id != nil:
					r.MessageID = *res.JSON201.Id
				default:
					r.Error = fmt.Sprintf("HTTP %d without a message id", res.StatusCode())
				}
				out <- r
			}
		}()
	}
	go func() {
		defer close(work)
		for _, row := range rows {
			select {
			case work <- row:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()
	var results []Result
	for r := range out {
		results = append(results, r)
		if p != nil {
			p.Done(r)
		}
	}
	return results, ctx.Err()
}
