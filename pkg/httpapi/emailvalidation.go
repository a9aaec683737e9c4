package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/emailvalidation"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// ValidateEmail serves GET /api/v1/validate-email?token=..., the link of the
// validation e-mail: public (no subscription key; the token is the
// credential), answered with a small page in Italian and English, or with
// problem+json for a client that asks for JSON.
func ValidateEmail(st emailvalidation.Store, profs profiles.Recipients, now func() time.Time) Operation {
	return Operation{"GET", "/api/v1/validate-email", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := emailvalidation.Validate(r.Context(), st, profs, r.URL.Query().Get("token"), now())
		if wantsJSON(r) {
			if err != nil {
				writeProblem(w, r, err)
				return
			}
			writeJSON(w, http.StatusOK, map[string]bool{"is_email_validated": true})
			return
		}
		status := http.StatusOK
		if err != nil {
			_, status = logProblem(r, err)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(emailvalidation.Page(err)))
	})}
}

// wantsJSON reports whether the client asked for JSON rather than a page.
func wantsJSON(r *http.Request) bool {
	a := r.Header.Get("Accept")
	return strings.Contains(a, "json") && !strings.Contains(a, "text/html")
}

// StartEmailValidation serves POST /api/v1/profiles/{fiscal_code}/email-validation-process:
// a new validation link, e-mailed by the profile-events consumer (202).
func StartEmailValidation(svcs services.Store, profs profiles.Recipients, events profiles.Queue, now func() time.Time) Operation {
	return Operation{"POST", "/api/v1/profiles/{fiscal_code}/email-validation-process", public(svcs, []auth.Group{auth.ProfileWrite}, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		if err := emailvalidation.Start(r.Context(), profs, events, fc, now()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	})}
}
