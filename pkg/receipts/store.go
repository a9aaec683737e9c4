package receipts

import (
	"context"
	"time"

	"github.com/digital-citizenship/functions/pkg/messages"
)

// Opening is what an opening records besides its time: the opening
// condition in force, and the digests of the sender's answers for remote
// content, so that the receipt can be made again, the same, from the
// message alone.
type Opening struct {
	Precondition       string
	RemoteDigest       string
	PreconditionDigest string
}

// Store keeps the legal events of messages (the messages' store).
type Store interface {
	// Get returns a message, or problem.ErrNotFound.
	Get(ctx context.Context, fiscalCode, id string) (messages.Message, error)
	// RecordOpening records the first opening of a message of the inbox at
	// at, with o, and takes it out of the deadlines' index; it returns the
	// message as it is then and whether this call recorded the opening (an
	// opening recorded before: false). A message with third_party_data is
	// recorded only when remote says its sender's answers were read: else
	// it is returned unrecorded. problem.ErrNotFound for a message that is
	// not in the inbox.
	RecordOpening(ctx context.Context, fiscalCode, id string, at time.Time, o Opening, remote bool) (messages.Message, bool, error)
	// DueOpenings lists up to limit messages of shard whose opening
	// deadline passed by due, resuming after cursor ("" first); it returns
	// the next cursor, "" at the end.
	DueOpenings(ctx context.Context, shard int, due time.Time, limit int, cursor string) ([]messages.MessageRef, string, error)
	// RecordNotOpened records at as the message's non-opening, the opening
	// condition it had and head as its legal head, on condition that it is
	// neither opened nor recorded not opened; problem.ErrConflict otherwise.
	RecordNotOpened(ctx context.Context, fiscalCode, id string, at time.Time, precondition, head string) error
	// LeaveOpenings takes a message out of the deadlines' index.
	LeaveOpenings(ctx context.Context, fiscalCode, id string) error
}
