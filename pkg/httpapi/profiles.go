package httpapi

import (
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
)

// GetProfile is getProfile: the full view for ApiFullProfileRead, else the
// limited view (may the calling service write to this inbox?).
func GetProfile(svcs services.Store, st profiles.Recipients) Operation {
	allowed := []auth.Group{auth.LimitedProfileRead, auth.FullProfileRead}
	return Operation{"GET", "/api/v1/profiles/{fiscal_code}", public(svcs, allowed, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		rec, err := profiles.Read(r.Context(), st, fc)
		if err != nil {
			return err
		}
		if r.Caller.Has(auth.FullProfileRead) {
			writeJSON(w, http.StatusOK, rec.Profile.ExtendedView())
		} else {
			writeJSON(w, http.StatusOK, rec.LimitedView(r.Service.ServiceID))
		}
		return nil
	})}
}

// UpsertProfile is upsertProfile: creates version 0 or the next version,
// announced on the profile-events queue.
func UpsertProfile(svcs services.Store, st profiles.Store, events profiles.Queue, now func() time.Time) Operation {
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
		saved, err := profiles.Upsert(r.Context(), st, events, p, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, saved.ExtendedView())
		return nil
	})}
}

// preferenceTarget validates the path of a preference operation and
// returns the fiscal code and the service, which must exist.
func preferenceTarget(r request, svcs services.Store) (string, string, error) {
	fc, err := fiscalCodeParam(r, "fiscal_code")
	if err != nil {
		return "", "", err
	}
	if err := r.checkSource(); err != nil {
		return "", "", err
	}
	s, err := services.Get(r.Context(), svcs, r.PathValue("service_id"))
	if err != nil {
		return "", "", err
	}
	return fc, s.ServiceID, nil
}

// GetServicePreference serves GET /api/v1/profiles/{fiscal_code}/services/{service_id}/preferences:
// what the citizen allows the service, stored or implied by the mode.
func GetServicePreference(svcs services.Store, st profiles.Recipients) Operation {
	return Operation{"GET", "/api/v1/profiles/{fiscal_code}/services/{service_id}/preferences", public(svcs, []auth.Group{auth.FullProfileRead}, func(w http.ResponseWriter, r request) error {
		fc, svc, err := preferenceTarget(r, svcs)
		if err != nil {
			return err
		}
		pref, err := profiles.GetPreference(r.Context(), st, fc, svc)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, pref)
		return nil
	})}
}

// UpsertServicePreference serves PUT /api/v1/profiles/{fiscal_code}/services/{service_id}/preferences.
// A change of subscription is announced on events (the subscriptions feed).
func UpsertServicePreference(svcs services.Store, st profiles.PreferenceStore, events profiles.Queue, now func() time.Time) Operation {
	return Operation{"PUT", "/api/v1/profiles/{fiscal_code}/services/{service_id}/preferences", public(svcs, []auth.Group{auth.ProfileWrite}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		if _, err := fiscalCodeParam(r, "fiscal_code"); err != nil {
			return err
		}
		pref, err := profiles.ParsePreference(body)
		if err != nil {
			return err
		}
		fc, svc, err := preferenceTarget(r, svcs)
		if err != nil {
			return err
		}
		saved, err := profiles.SetPreference(r.Context(), st, events, fc, svc, pref, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, saved)
		return nil
	})}
}

// CreateDevelopmentProfile serves POST /adm/development-profiles/{fiscal_code}:
// a test citizen for integrators (sandbox fiscal codes only).
func CreateDevelopmentProfile(st profiles.Store, events profiles.Queue, now func() time.Time) Operation {
	return Operation{"POST", "/adm/development-profiles/{fiscal_code}", admin([]auth.Group{auth.DevelopmentProfileWrite}, func(w http.ResponseWriter, r request) error {
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		p, err := profiles.ParseDevelopment(r.PathValue("fiscal_code"), body)
		if err != nil {
			return err
		}
		saved, err := profiles.CreateDevelopment(r.Context(), st, events, p, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, saved.ExtendedView())
		return nil
	})}
}
