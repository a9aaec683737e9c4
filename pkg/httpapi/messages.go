package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/ical"
	"github.com/digital-citizenship/functions/pkg/ids"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// IdempotencyHeader lets a client retry a submission without a duplicate.
const IdempotencyHeader = "Idempotency-Key"

var submitGroups = []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}

// SubmitMessage is submitMessageforUser: 201, a relative Location and the id.
func SubmitMessage(svcs services.Store, sub messages.CountedSubmitter) Operation {
	return Operation{"POST", "/api/v1/messages/{fiscal_code}", public(svcs, submitGroups, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		nm, inBody, err := messages.ParseNewMessage(body)
		if err != nil {
			return err
		}
		if inBody != nil {
			return problem.Invalidf(messages.NewMessageTitle,
				"value.fiscal_code must not be given both in the path and in the body; use POST /api/v1/messages to send it in the body")
		}
		return submit(w, r, sub, fc, nm, body)
	})}
}

// SubmitMessageInBody is POST /api/v1/messages, the successors' form: the
// fiscal code travels in the body, out of URLs and access logs.
func SubmitMessageInBody(svcs services.Store, sub messages.CountedSubmitter) Operation {
	return Operation{"POST", "/api/v1/messages", public(svcs, submitGroups, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		nm, inBody, err := messages.ParseNewMessage(body)
		if err != nil {
			return err
		}
		fc := ""
		if inBody != nil {
			fc, _ = fiscalcode.Normalize(*inBody)
		}
		if !fiscalcode.Valid(fc) {
			return problem.Invalidf(messages.NewMessageTitle, "value.fiscal_code is not a fiscal code (pattern %s)", fiscalcode.Pattern)
		}
		return submit(w, r, sub, fc, nm, body)
	})}
}

// submit is what both forms share once the input is valid: the source-IP
// check, the submission, 201 with a relative Location.
func submit(w http.ResponseWriter, r request, sub messages.CountedSubmitter, fc string, nm messages.NewMessage, body []byte) error {
	key, err := messages.ParseIdempotencyKey(r.Header.Get(IdempotencyHeader))
	if err != nil {
		return err
	}
	bulk, err := messages.ParseLane(r.Header.Get(messages.LaneHeader))
	if err != nil {
		return err
	}
	if err := r.checkSource(); err != nil {
		return err
	}
	res, err := sub.Submit(r.Context(), messages.Submission{Caller: r.Caller, Service: r.Service, FiscalCode: fc,
		Message: nm, IdempotencyKey: key, Body: body, Bulk: bulk})
	for k, v := range res.Quota.Headers(time.Now()) {
		w.Header().Set(k, v)
	}
	if err != nil {
		return err
	}
	w.Header().Set(messages.LaneHeader, res.Lane)
	id := res.ID
	w.Header().Set("Location", "/api/v1/messages/"+fc+"/"+id)
	if len(nm.Attachments) == 0 {
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
		return nil
	}
	// Documents: where to upload each, for the next hour (a replay gets
	// them again).
	links, err := messages.UploadLinks(r.Context(), sub.Documents, fc, id, ids.Time(id), nm.Attachments, time.Now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, struct {
		ID          string                `json:"id"`
		Attachments []messages.UploadView `json:"attachments"`
	}{id, links})
	return nil
}

// GetMessageAttachment serves GET /api/v1/messages/{fiscal_code}/{id}/attachments/{attachment_id}:
// a short-lived link to a document of a message in the inbox, for the app
// backend.
func GetMessageAttachment(svcs services.Store, st messages.Store, d messages.Downloads, now func() time.Time) Operation {
	return Operation{"GET", "/api/v1/messages/{fiscal_code}/{id}/attachments/{attachment_id}", public(svcs, []auth.Group{auth.MessageList}, func(w http.ResponseWriter, r request) error {
		m, err := r.message(st)
		if err != nil {
			return err
		}
		link, err := messages.LinkAttachment(r.Context(), d, m, r.PathValue("attachment_id"), now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, link)
		return nil
	})}
}

// GetMessage is getMessage: the message with its status and channels, for
// its sender or a trusted app.
//
// A processed message shows its read_status: READ or UNREAD when the
// citizen lets the sender see it, else UNAVAILABLE.
func GetMessage(svcs services.Store, st messages.Store, profs profiles.Recipients) Operation {
	allowed := []auth.Group{auth.MessageRead, auth.MessageList}
	return Operation{"GET", "/api/v1/messages/{fiscal_code}/{id}", public(svcs, allowed, func(w http.ResponseWriter, r request) error {
		m, err := r.message(st)
		if err != nil {
			return err
		}
		v := m.View()
		if m.Status == messages.Processed {
			rec, err := profs.Recipient(r.Context(), m.FiscalCode)
			switch {
			case errors.Is(err, problem.ErrNotFound): // the citizen left
				v.ReadStatus = messages.ReadStatusUnavailable
			case err != nil:
				return problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the message")
			default:
				v.ReadStatus = messages.ReadStatus(m, rec)
			}
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	})}
}

// PutMessageStatus serves PUT /api/v1/messages/{fiscal_code}/{id}/message-status:
// the app backend records that the citizen read or archived a message. A
// read is the message.read callback of a sender that asked for it, when the
// citizen lets the sender know (cb, when set, takes it; profs tells).
func PutMessageStatus(svcs services.Store, st messages.Store, profs profiles.Recipients, cb messages.Queue, now func() time.Time) Operation {
	return Operation{"PUT", "/api/v1/messages/{fiscal_code}/{id}/message-status", public(svcs, []auth.Group{auth.MessageList}, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		ch, err := messages.ParseStatusChange(body)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		m, err := messages.ChangeStatus(r.Context(), st, fc, r.PathValue("id"), ch, now())
		if err != nil {
			return err
		}
		if ch.IsRead != nil && *ch.IsRead {
			if err := messages.ReadCallback(r.Context(), cb, profs, m, now()); err != nil {
				return problem.Wrap(problem.Unavailable, err, "Service unavailable",
					"The status was recorded; its callback could not be queued. Send the change again.")
			}
		}
		writeJSON(w, http.StatusOK, m.StatusView())
		return nil
	})}
}

// PostPayment serves POST /api/v1/payments: the payment system reports that
// a notice was paid, and the notice's messages are PAID. A repeated receipt
// gets the same answer.
func PostPayment(svcs services.Store, c messages.Cashier) Operation {
	return Operation{"POST", "/api/v1/payments", public(svcs, []auth.Group{auth.PaymentWrite}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		rec, err := messages.ParseReceipt(body)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		ans, err := c.Record(r.Context(), rec)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, ans)
		return nil
	})}
}

// PutPaymentStatus serves PUT /api/v1/messages/{fiscal_code}/{id}/payment-status:
// the sender records that its notice was paid elsewhere.
func PutPaymentStatus(svcs services.Store, st messages.Store, p messages.Payments, cb messages.Queue, now func() time.Time) Operation {
	return Operation{"PUT", "/api/v1/messages/{fiscal_code}/{id}/payment-status", public(svcs, submitGroups, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		if err := messages.ParsePaymentStatusChange(body); err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		v, err := messages.MarkPaidBySender(r.Context(), st, p, cb, r.Caller, fc, r.PathValue("id"), now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	})}
}

// ErrNoDueDate answers the calendar of a message without a due date.
var ErrNoDueDate = problem.New(problem.NotFound, "No due date", "The message has no due_date: it has no calendar event.")

// GetMessageCalendar serves GET /api/v1/messages/{fiscal_code}/{id}/calendar.ics
// to the app backend: the iCalendar event of a message's due date (one UID
// per message, an alarm at each of the sender's reminder offsets).
func GetMessageCalendar(svcs services.Store, st messages.Store) Operation {
	return Operation{"GET", "/api/v1/messages/{fiscal_code}/{id}/calendar.ics", public(svcs, []auth.Group{auth.MessageList}, func(w http.ResponseWriter, r request) error {
		m, err := r.message(st)
		if err != nil {
			return err
		}
		if m.Pending || m.Content == nil {
			return messages.ErrNotFound // not in the inbox
		}
		sender, err := svcs.Latest(r.Context(), m.SenderServiceID)
		if err != nil && !errors.Is(err, problem.ErrNotFound) {
			return problem.Wrap(problem.Internal, err, "Query error", "Error while retrieving the message's service")
		}
		sm := messages.SenderMetadata{ServiceName: sender.ServiceName, OrganizationName: sender.OrganizationName,
			DepartmentName: sender.DepartmentName, OrganizationFiscalCode: sender.OrganizationFiscalCode}
		cal, ok := messages.Calendar(m.ID, m.CreatedAt, *m.Content, sm, sender.Reminders())
		if !ok {
			return ErrNoDueDate
		}
		w.Header().Set("Content-Type", ical.ContentType)
		w.Header().Set("Content-Disposition", `attachment; filename="scadenza.ics"`)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(cal.Marshal())
		return nil
	})}
}

// message reads the message the path names ({fiscal_code}, {id}) for the
// caller (its sender, or a trusted app), once the fiscal code is valid and
// the caller's source allowed.
func (r request) message(st messages.Store) (messages.Message, error) {
	fc, err := r.citizen()
	if err != nil {
		return messages.Message{}, err
	}
	return messages.Get(r.Context(), st, r.Caller, fc, r.PathValue("id"))
}

// CancelMessage serves DELETE /api/v1/messages/{fiscal_code}/{id}: the
// sender cancels its message while it is SCHEDULED (then CANCELLED); 409
// once it is being processed or was.
func CancelMessage(svcs services.Store, st messages.Store, sched messages.ScheduledStore, now func() time.Time) Operation {
	return Operation{"DELETE", "/api/v1/messages/{fiscal_code}/{id}", public(svcs, submitGroups, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		m, err := messages.Cancel(r.Context(), st, sched, r.Caller.ServiceID(), fc, r.PathValue("id"), now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m.View())
		return nil
	})}
}
