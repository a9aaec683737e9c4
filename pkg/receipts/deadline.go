package receipts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/remotecontent"
)

// sweepPage is how many keys one query of a shard of the deadlines' index
// reads.
const sweepPage = 200

// Sweep signs the non-opening of every message whose opening deadline
// passed (a scheduled function, every minute): for each one still to be
// opened, its receipt (message.not_opened) kept and its callback queued,
// then the message out of the index. A message whose opening condition,
// once its configuration is read, is NONE just leaves the index. A
// message that fails stays in the index for the next run; it returns how
// many receipts it issued.
func (n Notary) Sweep(ctx context.Context, log *slog.Logger) (int, error) {
	now := n.Now().UTC()
	issued := 0
	var errs []error
	for shard := range messages.OpeningShards {
		cursor := ""
		for {
			refs, next, err := n.Store.DueOpenings(ctx, shard, now, sweepPage, cursor)
			if err != nil {
				errs = append(errs, fmt.Errorf("shard %d: %w", shard, err))
				break
			}
			for _, r := range refs {
				ok, err := n.notOpened(ctx, r)
				if err != nil {
					// No personal data: the message id and the step.
					log.ErrorContext(ctx, "non-opening not recorded", "message", r.ID, "error", err.Error())
					continue
				}
				if ok {
					issued++
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return issued, errors.Join(errs...)
}

// notOpened records and signs one message's non-opening; it reports
// whether it issued a receipt.
func (n Notary) notOpened(ctx context.Context, r messages.MessageRef) (bool, error) {
	m, err := n.Store.Get(ctx, r.FiscalCode, r.ID)
	if errors.Is(err, problem.ErrNotFound) {
		return false, nil // erased
	}
	if err != nil {
		return false, fmt.Errorf("read the message: %w", err)
	}
	switch {
	case m.Acts.Opened(): // opened as the index was read
		return false, n.Store.LeaveOpenings(ctx, r.FiscalCode, r.ID)
	case m.Acts.NotOpenedAt.IsZero():
		precondition, err := n.precondition(ctx, m)
		if err != nil {
			return false, err
		}
		if precondition == messages.PreconditionNone {
			return false, n.Store.LeaveOpenings(ctx, r.FiscalCode, r.ID)
		}
		m.Acts.Precondition, m.Acts.NotOpenedAt = precondition, n.Now().UTC()
		p, err := n.payload(ctx, m, NotOpened)
		if err != nil {
			return false, err
		}
		m.Acts.LegalHead = p.Digest()
		err = n.Store.RecordNotOpened(ctx, r.FiscalCode, r.ID, m.Acts.NotOpenedAt, precondition, m.Acts.LegalHead)
		if errors.Is(err, problem.ErrConflict) { // opened meanwhile
			return false, n.Store.LeaveOpenings(ctx, r.FiscalCode, r.ID)
		}
		if err != nil {
			return false, fmt.Errorf("record the non-opening: %w", err)
		}
		if _, err := n.issue(ctx, m, NotOpened, true); err != nil {
			return false, err
		}
	default: // recorded by a run that stopped before its receipt was kept
		if _, err := n.issue(ctx, m, NotOpened, false); err != nil {
			return false, err
		}
	}
	return true, n.Store.LeaveOpenings(ctx, r.FiscalCode, r.ID)
}

// precondition is the opening condition of a message with remote content:
// its own, else its configuration's.
func (n Notary) precondition(ctx context.Context, m messages.Message) (string, error) {
	d := m.Content.ThirdPartyData
	if d == nil {
		return messages.PreconditionNone, nil
	}
	if d.HasPrecondition != "" {
		return d.HasPrecondition, nil
	}
	rc, err := remotecontent.Resolve(ctx, n.Configurations, m)
	if errors.Is(err, remotecontent.ErrConfigurationGone) {
		return messages.PreconditionNone, nil // no configuration, no condition
	}
	if err != nil {
		return "", fmt.Errorf("read the configuration: %w", err)
	}
	return rc.Precondition(), nil
}
