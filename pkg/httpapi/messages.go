package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/messages"
	"github.com/digital-citizenship/functions/pkg/services"
)

// IdempotencyHeader lets a client retry a submission without a duplicate.
const IdempotencyHeader = "Idempotency-Key"

// SubmitMessage is submitMessageforUser: 201, a relative Location and the id.
func SubmitMessage(svcs services.Store, sub messages.Submitter) Operation {
	allowed := []auth.Group{auth.MessageWrite, auth.LimitedMessageWrite}
	return Operation{"POST", "/api/v1/messages/{fiscal_code}", public(svcs, allowed, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		nm, _, err := messages.ParseNewMessage(body)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		id, err := sub.Submit(r.Context(), messages.Submission{Caller: r.Caller, Service: r.Service, FiscalCode: fc,
			Message: nm, IdempotencyKey: r.Header.Get(IdempotencyHeader), Body: body})
		if err != nil {
			return err
		}
		w.Header().Set("Location", "/api/v1/messages/"+fc+"/"+id)
		writeJSON(w, http.StatusCreated, map[string]string{"id": id})
		return nil
	})}
}

// GetMessage is getMessage: the message with its status and channels, for
// its sender or a trusted app.
func GetMessage(svcs services.Store, st messages.Store) Operation {
	allowed := []auth.Group{auth.MessageRead, auth.MessageList}
	return Operation{"GET", "/api/v1/messages/{fiscal_code}/{id}", public(svcs, allowed, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		m, err := messages.Get(r.Context(), st, r.Caller, fc, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, m.View())
		return nil
	})}
}
