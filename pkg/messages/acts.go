package messages

import "time"

// Acts are the legal events recorded on a message, which package receipts
// signs: its opening by the citizen, or its non-opening by the deadline of
// a message with an opening condition.
type Acts struct {
	// Deadline is when a message that may have an opening condition is to
	// be opened by; Due is set while its non-opening is still to be
	// checked (OpeningIndex), zero once opened or recorded not opened.
	Deadline time.Time
	Due      bool
	OpenedAt time.Time
	// Precondition is the opening condition in force at the opening
	// (ALWAYS, ONCE), and RemoteDigest and PreconditionDigest the digests
	// of the sender's answers then, for remote content.
	Precondition       string
	RemoteDigest       string
	PreconditionDigest string
	NotOpenedAt        time.Time
	// LegalHead is the digest of the payload of the message's latest
	// receipt of a legal event, which the next one names (a hash chain).
	LegalHead string
}

// Opened reports whether the citizen's opening is recorded.
func (a Acts) Opened() bool { return !a.OpenedAt.IsZero() }

// OpeningShards spreads OpeningIndex over partitions, as ScheduledIndex.
const OpeningShards = 16

// OpeningShard is the OpeningIndex shard of message id, from the random
// end of its ULID.
func OpeningShard(id string) int {
	if id == "" {
		return 0
	}
	return int(id[len(id)-1]) % OpeningShards
}

// OpeningDeadline returns when a message processed at processed must be
// opened by, deadlineDays later, divided by scale (a local stack, whose
// reminders come 3600 times sooner, has its deadlines so too).
func OpeningDeadline(processed time.Time, deadlineDays int, scale float64) time.Time {
	if scale <= 0 {
		scale = 1
	}
	return processed.Add(time.Duration(float64(time.Duration(deadlineDays)*24*time.Hour) / scale)).Truncate(time.Second)
}
