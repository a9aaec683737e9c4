package messages

import (
	"errors"
	"time"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// Limits of a new message. Ranges are inclusive, as the Swagger says (the
// original's exclusive maxima were a bug); lengths count Unicode characters.
const (
	MinTimeToLive     = 3600
	MaxTimeToLive     = 604800
	DefaultTimeToLive = 3600
	MinSubject        = 10
	MaxSubject        = 120
	MinMarkdown       = 80
	MaxMarkdown       = 10000
	MinAmount         = 1
	MaxAmount         = 9999999999
	MinReference      = 1
	MaxReference      = 1000
)

// NewMessageTitle is the title of every 400 about a message body.
const NewMessageTitle = "Invalid NewMessage"

// NewMessage is a validated submission.
type NewMessage struct {
	TimeToLive int
	// FeatureLevel is STANDARD (the default) or ADVANCED.
	FeatureLevel string
	// Attachments are the documents declared, to upload after the 201.
	Attachments []Attachment
	// Reference is the sender's own id of the message (no personal data).
	Reference string
	// ScheduledAt, when set, is when the message is to be processed.
	ScheduledAt  time.Time
	Content      Content
	DefaultEmail string
	// HasDefaultAddresses is true when the body carried default_addresses.
	HasDefaultAddresses bool
}

type newMessageInput struct {
	FiscalCode   *string            `json:"fiscal_code"`
	TimeToLive   *int64             `json:"time_to_live"`
	FeatureLevel *string            `json:"feature_level_type"`
	Attachments  *[]attachmentInput `json:"attachments"`
	Reference    *string            `json:"reference"`
	ScheduledAt  *string            `json:"scheduled_at"`
	Content      *struct {
		Subject     *string `json:"subject"`
		Markdown    *string `json:"markdown"`
		PaymentData *struct {
			Amount              *int64  `json:"amount"`
			NoticeNumber        *string `json:"notice_number"`
			InvalidAfterDueDate *bool   `json:"invalid_after_due_date"`
			Payee               *struct {
				FiscalCode *string `json:"fiscal_code"`
			} `json:"payee"`
		} `json:"payment_data"`
		DueDate               *string          `json:"due_date"`
		RequireSecureChannels *bool            `json:"require_secure_channels"`
		ThirdPartyData        *thirdPartyInput `json:"third_party_data"`
	} `json:"content"`
	DefaultAddresses *struct {
		Email *string `json:"email"`
	} `json:"default_addresses"`
}

var (
	noticeNumber = validate.Regexp(`^[0123][0-9]{17}$`)
	// orgFiscalCode is an organization's fiscal code (partita IVA).
	orgFiscalCode = validate.Regexp(`^[0-9]{11}$`)
	timestamp     = validate.Regexp(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z)?$`)
)

// ParseNewMessage decodes and validates a NewMessage body. It also returns
// the body's fiscal_code, if any (the successors' form of the request).
func ParseNewMessage(body []byte) (NewMessage, *string, error) {
	var in newMessageInput
	if err := validate.DecodeJSON(body, &in, NewMessageTitle); err != nil {
		return NewMessage{}, nil, err
	}
	r := validate.NewReport(NewMessageTitle)
	nm := NewMessage{TimeToLive: DefaultTimeToLive, FeatureLevel: Standard}
	if in.FeatureLevel != nil {
		switch *in.FeatureLevel {
		case Standard, Advanced:
			nm.FeatureLevel = *in.FeatureLevel
		default:
			r.Addf("feature_level_type", "one of %s, %s", Standard, Advanced)
		}
	}
	if in.TimeToLive != nil {
		if *in.TimeToLive < MinTimeToLive || *in.TimeToLive > MaxTimeToLive {
			r.Addf("time_to_live", "an integer between %d and %d", MinTimeToLive, MaxTimeToLive)
		}
		nm.TimeToLive = int(*in.TimeToLive)
	}
	if in.Content == nil {
		r.Addf("content", "an object")
	} else {
		c := in.Content
		nm.Content.Subject = text(r, "content.subject", c.Subject, MinSubject, MaxSubject, validate.SingleLine, "on one line without control characters")
		nm.Content.Markdown = text(r, "content.markdown", c.Markdown, MinMarkdown, MaxMarkdown, validate.MultiLine, "without control characters other than tabs and line breaks")
		if c.DueDate != nil {
			nm.Content.DueDate = dueDate(r, *c.DueDate)
		}
		nm.Content.RequireSecureChannels = c.RequireSecureChannels != nil && *c.RequireSecureChannels
		if c.ThirdPartyData != nil {
			nm.Content.ThirdPartyData = parseThirdParty(r, c.ThirdPartyData)
		}
		if p := c.PaymentData; p != nil {
			pd := &PaymentData{InvalidAfterDueDate: p.InvalidAfterDueDate != nil && *p.InvalidAfterDueDate}
			if p.Amount == nil || *p.Amount < MinAmount || *p.Amount > MaxAmount {
				r.Addf("content.payment_data.amount", "an integer between %d and %d", MinAmount, MaxAmount)
			} else {
				pd.Amount = *p.Amount
			}
			if p.NoticeNumber == nil || !noticeNumber().MatchString(*p.NoticeNumber) {
				r.Addf("content.payment_data.notice_number", "a string that matches the pattern %q", noticeNumber().String())
			} else {
				pd.NoticeNumber = *p.NoticeNumber
			}
			if p.Payee != nil {
				if p.Payee.FiscalCode == nil || !orgFiscalCode().MatchString(*p.Payee.FiscalCode) {
					r.Addf("content.payment_data.payee.fiscal_code", "a string that matches the pattern %q", orgFiscalCode().String())
				} else {
					pd.Payee = &Payee{FiscalCode: *p.Payee.FiscalCode}
				}
			}
			nm.Content.PaymentData = pd
		}
	}
	if in.Attachments != nil {
		nm.Attachments = parseAttachments(r, *in.Attachments)
	}
	if in.Reference != nil {
		nm.Reference = text(r, "reference", in.Reference, MinReference, MaxReference, validate.SingleLine, "on one line without control characters")
	}
	if in.ScheduledAt != nil {
		if t, ok := parseTimestamp(*in.ScheduledAt); ok {
			nm.ScheduledAt = t
		} else {
			r.Addf("scheduled_at", "a UTC ISO-8601 date-time (from 1 minute to 7 days ahead)")
		}
	}
	if d := in.DefaultAddresses; d != nil {
		nm.HasDefaultAddresses = true
		if d.Email != nil {
			if !validate.Email(*d.Email) {
				r.Addf("default_addresses.email", "an e-mail address")
			}
			nm.DefaultEmail = *d.Email
		}
	}
	return nm, in.FiscalCode, r.Err()
}

// CheckContent checks a subject and a markdown body against a message's
// limits (remote content, from a sender's system, must keep them too).
func CheckContent(subject, markdown string) error {
	r := validate.NewReport(NewMessageTitle)
	text(r, "subject", &subject, MinSubject, MaxSubject, validate.SingleLine, "on one line without control characters")
	text(r, "markdown", &markdown, MinMarkdown, MaxMarkdown, validate.MultiLine, "without control characters other than tabs and line breaks")
	if err := r.Err(); err != nil {
		return errors.New(problem.As(err).Detail)
	}
	return nil
}

// text checks a string field's length (in UTF-16 code units, as the
// original counted) and its characters.
func text(r *validate.Report, path string, s *string, min, max int, clean func(string) bool, cleanDesc string) string {
	switch {
	case s == nil || validate.Chars(*s) < min || validate.Chars(*s) > max:
		r.Addf(path, "a string of %d to %d characters", min, max)
		return ""
	case !clean(*s):
		r.Addf(path, "a string %s", cleanDesc)
		return ""
	}
	return *s
}

// dueDate accepts the original's UTCISODateFromString and re-serialises it
// as toISOString() does.
func dueDate(r *validate.Report, s string) string {
	if t, ok := parseTimestamp(s); ok {
		return FormatTime(t)
	}
	r.Addf("content.due_date", "a UTC ISO-8601 date-time")
	return ""
}

// parseTimestamp reads the original's UTCISODateFromString: a date-time in
// UTC, with or without fractional seconds and Z.
func parseTimestamp(s string) (time.Time, bool) {
	if !timestamp().MatchString(s) {
		return time.Time{}, false
	}
	layout := "2006-01-02T15:04:05.999999999"
	if s[len(s)-1] == 'Z' {
		layout += "Z"
	}
	t, err := time.Parse(layout, s)
	return t.UTC(), err == nil
}

// ParseTime reads a time as FormatTime writes it (and as due_date is
// stored); the zero time if s is not one.
func ParseTime(s string) time.Time {
	t, _ := parseTimestamp(s)
	return t
}

// FormatTime formats t as JavaScript's toISOString: millisecond precision, UTC.
func FormatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
