package httpapi

import (
	"context"
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/receipts"
	"github.com/digital-citizenship/functions/pkg/services"
)

// RecordOpening serves POST /api/v1/messages/{fiscal_code}/{id}/opening:
// the app backend reports that the citizen opened a message (after the
// opening condition, when there is one); the first opening is recorded
// whatever the citizen's read-status consent, and its signed receipt
// answered; a later one answers the same receipt.
func RecordOpening(svcs services.Store, n receipts.Notary) Operation {
	return Operation{"POST", "/api/v1/messages/{fiscal_code}/{id}/opening", public(svcs, appGroups, func(w http.ResponseWriter, r request) error {
		fc, err := r.citizen()
		if err != nil {
			return err
		}
		rc, err := n.Open(r.Context(), fc, r.PathValue("id"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, rc)
		return nil
	})}
}

// ReceiptsView is a message's receipts: the latest, and the chain, oldest
// first.
type ReceiptsView struct {
	receipts.Receipt
	Chain []receipts.Receipt `json:"chain"`
}

// GetReceipt serves GET /api/v1/messages/{fiscal_code}/{id}/receipt: the
// sender's receipts of its message's legal events.
func GetReceipt(svcs services.Store, n receipts.Notary) Operation {
	return Operation{"GET", "/api/v1/messages/{fiscal_code}/{id}/receipt", public(svcs, []auth.Group{auth.MessageRead, auth.MessageList},
		func(w http.ResponseWriter, r request) error {
			fc, err := r.citizen()
			if err != nil {
				return err
			}
			chain, err := n.Receipts(r.Context(), r.Caller, fc, r.PathValue("id"))
			if err != nil {
				return err
			}
			writeJSON(w, http.StatusOK, ReceiptsView{Receipt: chain[len(chain)-1], Chain: chain})
			return nil
		})}
}

// KeySet gives the receipts' public keys.
type KeySet interface {
	JWKS(ctx context.Context) (receipts.JWKS, error)
}

// GetReceiptKeys serves GET /api/v1/receipts/keys anonymously: the public
// keys that verify receipts, as a JWKS, so anyone can check one offline.
func GetReceiptKeys(keys KeySet) Operation {
	return Operation{"GET", "/api/v1/receipts/keys", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		set, err := keys.JWKS(r.Context())
		if err != nil {
			writeProblem(w, r, problem.Wrap(problem.Unavailable, err, "Service unavailable", "The keys could not be read; try again."))
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=300")
		writeJSON(w, http.StatusOK, set)
	})}
}
