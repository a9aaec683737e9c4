package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// GetProfile is getProfile: the full view for ApiFullProfileRead, else the
// limited view (may the calling service write to this inbox?).
func GetProfile(svcs services.Store, st profiles.Store) Operation {
	allowed := []auth.Group{auth.LimitedProfileRead, auth.FullProfileRead}
	return Operation{"GET", "/api/v1/profiles/{fiscal_code}", public(svcs, allowed, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		p, err := profiles.Get(r.Context(), st, fc)
		if err != nil {
			return err
		}
		if r.Caller.Has(auth.FullProfileRead) {
			writeJSON(w, http.StatusOK, p.ExtendedView())
		} else {
			writeJSON(w, http.StatusOK, p.LimitedView(r.Service.ServiceID))
		}
		return nil
	})}
}

// UpsertProfile is upsertProfile: creates version 0 or the next version.
func UpsertProfile(svcs services.Store, st profiles.Store) Operation {
	return Operation{"POST", "/api/v1/profiles/{fiscal_code}", public(svcs, []auth.Group{auth.ProfileWrite}, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		p, err := profiles.Parse(fc, body)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		saved, err := profiles.Upsert(r.Context(), st, p)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, saved.ExtendedView())
		return nil
	})}
}
