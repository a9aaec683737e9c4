package messages

import (
	"context"
	"errors"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/callbacks"
	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// ReceiptWindow is how long a receipt is kept for a notice that no message
// has yet: a message that comes later is PAID on arrival.
const ReceiptWindow = 30 * 24 * time.Hour

// Receipt is the payment system's report that a notice was paid.
type Receipt struct {
	NoticeNumber    string    `json:"notice_number"`
	PayeeFiscalCode string    `json:"payee_fiscal_code"`
	FiscalCode      string    `json:"fiscal_code"`
	Amount          int64     `json:"amount"`
	PaidAt          time.Time `json:"paid_at"`
}

// MessageRef names a message.
type MessageRef struct {
	FiscalCode string
	ID         string
}

// Payments keeps the payment status of messages with payment_data and the
// payment system's receipts.
type Payments interface {
	// RecordReceipt keeps r, unless a receipt of the same payee and notice
	// is kept already, until expires; it returns the receipt kept.
	RecordReceipt(ctx context.Context, r Receipt, expires time.Time) (Receipt, error)
	// Receipt returns the receipt kept for a payee's notice, or
	// problem.ErrNotFound.
	Receipt(ctx context.Context, payee, notice string) (Receipt, error)
	// ByNotice lists the messages of a payee's notice.
	ByNotice(ctx context.Context, payee, notice string) ([]MessageRef, error)
	// MarkPaid records that a message's notice was paid at paidAt, unless it
	// was recorded paid already, and takes it out of the reminders to come.
	// It returns the message as it is then; problem.ErrNotFound without the
	// message, problem.ErrConflict when it has no payment_data.
	MarkPaid(ctx context.Context, fiscalCode, id string, paidAt time.Time) (Message, error)
}

// ReceiptTitle is the title of every 400 about a receipt.
const ReceiptTitle = "Invalid PaymentReceipt"

// ParseReceipt decodes and validates a receipt body.
func ParseReceipt(body []byte) (Receipt, error) {
	var in struct {
		NoticeNumber    *string `json:"notice_number"`
		PayeeFiscalCode *string `json:"payee_fiscal_code"`
		FiscalCode      *string `json:"fiscal_code"`
		Amount          *int64  `json:"amount"`
		PaidAt          *string `json:"paid_at"`
	}
	if err := validate.DecodeJSON(body, &in, ReceiptTitle); err != nil {
		return Receipt{}, err
	}
	r := validate.NewReport(ReceiptTitle)
	var out Receipt
	if in.NoticeNumber == nil || !noticeNumber().MatchString(*in.NoticeNumber) {
		r.Addf("notice_number", "a string that matches the pattern %q", noticeNumber().String())
	} else {
		out.NoticeNumber = *in.NoticeNumber
	}
	if in.PayeeFiscalCode == nil || !orgFiscalCode().MatchString(*in.PayeeFiscalCode) {
		r.Addf("payee_fiscal_code", "a string that matches the pattern %q", orgFiscalCode().String())
	} else {
		out.PayeeFiscalCode = *in.PayeeFiscalCode
	}
	fc := ""
	if in.FiscalCode != nil {
		fc, _ = fiscalcode.Normalize(*in.FiscalCode)
	}
	if !fiscalcode.Valid(fc) {
		r.Addf("fiscal_code", "a fiscal code (pattern %s)", fiscalcode.Pattern)
	}
	out.FiscalCode = fc
	if in.Amount == nil || *in.Amount < MinAmount || *in.Amount > MaxAmount {
		r.Addf("amount", "an integer between %d and %d", MinAmount, MaxAmount)
	} else {
		out.Amount = *in.Amount
	}
	if in.PaidAt == nil {
		r.Addf("paid_at", "a UTC ISO-8601 date-time")
	} else if t, ok := parseTimestamp(*in.PaidAt); !ok {
		r.Addf("paid_at", "a UTC ISO-8601 date-time")
	} else {
		out.PaidAt = t
	}
	return out, r.Err()
}

// ReceiptAnswer is what the payment system gets back for a receipt: the
// receipt kept (the first of its notice) and the messages it marks paid.
type ReceiptAnswer struct {
	NoticeNumber    string   `json:"notice_number"`
	PayeeFiscalCode string   `json:"payee_fiscal_code"`
	PaidAt          string   `json:"paid_at"`
	MessageIDs      []string `json:"message_ids"`
}

// Cashier applies the payment system's receipts.
type Cashier struct {
	Payments Payments
	Now      func() time.Time
	// Callbacks, when set, takes the message.paid callback of each message
	// whose sender asked for it.
	Callbacks Queue
}

// Record keeps the receipt (the first of its notice wins) and marks every
// message of its notice PAID. A repeated receipt changes nothing and gets
// the same answer; a message that arrives later for the notice finds the
// receipt and is PAID at once.
func (c Cashier) Record(ctx context.Context, r Receipt) (ReceiptAnswer, error) {
	kept, err := c.Payments.RecordReceipt(ctx, r, c.Now().Add(ReceiptWindow))
	if err != nil {
		return ReceiptAnswer{}, problem.Wrap(problem.Internal, err, "Query error", "Error while recording the receipt")
	}
	refs, err := c.Payments.ByNotice(ctx, kept.PayeeFiscalCode, kept.NoticeNumber)
	if err != nil {
		return ReceiptAnswer{}, problem.Wrap(problem.Internal, err, "Query error", "Error while finding the notice's messages")
	}
	ans := ReceiptAnswer{NoticeNumber: kept.NoticeNumber, PayeeFiscalCode: kept.PayeeFiscalCode,
		PaidAt: FormatTime(kept.PaidAt), MessageIDs: []string{}}
	for _, ref := range refs {
		m, err := c.Payments.MarkPaid(ctx, ref.FiscalCode, ref.ID, kept.PaidAt)
		switch {
		case errors.Is(err, problem.ErrNotFound), errors.Is(err, problem.ErrConflict):
			continue // erased since, say
		case err != nil:
			return ReceiptAnswer{}, problem.Wrap(problem.Internal, err, "Query error", "Error while marking the message paid")
		}
		if err := messageCallback(ctx, c.Callbacks, m, callbacks.MessagePaid, Paid, m.PaidAt); err != nil {
			return ReceiptAnswer{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
				"The payment was recorded; its callback could not be queued. Send the receipt again.")
		}
		ans.MessageIDs = append(ans.MessageIDs, ref.ID)
	}
	return ans, nil
}

// PaymentStatusView is the answer to a sender's payment-status change.
type PaymentStatusView struct {
	PaymentStatus string `json:"payment_status"`
	PaidAt        string `json:"paid_at,omitempty"`
}

// ParsePaymentStatusChange decodes a sender's {"status": "PAID"}.
func ParsePaymentStatusChange(body []byte) error {
	var in struct {
		Status *string `json:"status"`
	}
	const title = "Invalid PaymentStatusChange"
	if err := validate.DecodeJSON(body, &in, title); err != nil {
		return err
	}
	if in.Status == nil || *in.Status != Paid {
		r := validate.NewReport(title)
		r.Addf("status", "%q (a sender can only record a payment made elsewhere)", Paid)
		return r.Err()
	}
	return nil
}

// ErrNoPayment answers a payment-status change of a message without
// payment_data.
var ErrNoPayment = problem.New(problem.Conflict, "Not a payment notice",
	"The message has no payment_data: it has no payment status.")

// MarkPaidBySender records that the caller's own message was paid elsewhere
// (and queues its message.paid callback on cb when set and asked for).
func MarkPaidBySender(ctx context.Context, st Store, p Payments, cb Queue, c auth.Caller, fiscalCode, id string, now time.Time) (PaymentStatusView, error) {
	m, err := st.Get(ctx, fiscalCode, id)
	if errors.Is(err, problem.ErrNotFound) || err == nil && m.SenderServiceID != c.ServiceID() {
		return PaymentStatusView{}, ErrNotFound
	}
	if err != nil {
		return PaymentStatusView{}, problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the message")
	}
	if m.PaymentStatus == "" {
		return PaymentStatusView{}, ErrNoPayment
	}
	m, err = p.MarkPaid(ctx, fiscalCode, id, now)
	switch {
	case errors.Is(err, problem.ErrNotFound):
		return PaymentStatusView{}, ErrNotFound
	case errors.Is(err, problem.ErrConflict):
		return PaymentStatusView{}, ErrNoPayment
	case err != nil:
		return PaymentStatusView{}, problem.Wrap(problem.Internal, err, "Query error", "Error while recording the payment")
	}
	if err := messageCallback(ctx, cb, m, callbacks.MessagePaid, Paid, m.PaidAt); err != nil {
		return PaymentStatusView{}, problem.Wrap(problem.Unavailable, err, "Service unavailable",
			"The payment was recorded; its callback could not be queued. Send the change again.")
	}
	return PaymentStatusView{PaymentStatus: m.PaymentStatus, PaidAt: FormatTime(m.PaidAt)}, nil
}

// payee is the creditor of a new message's notice: its payment_data's
// payee, else the sender's organization.
func payee(pd *PaymentData, orgFiscalCode string) string {
	if pd.Payee != nil && pd.Payee.FiscalCode != "" {
		return pd.Payee.FiscalCode
	}
	return orgFiscalCode
}
