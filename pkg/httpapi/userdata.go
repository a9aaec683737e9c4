package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/services"
	"github.com/digital-citizenship/functions/pkg/userdata"
)

// Linker gives a fresh link to a closed download's archive.
type Linker interface {
	Link(ctx context.Context, key string, ttl time.Duration) (string, error)
}

// UpsertUserDataProcessing serves POST /api/v1/user-data-processing/{fiscal_code}:
// the citizen asks for a copy of their data or for its erasure.
func UpsertUserDataProcessing(svcs services.Store, st userdata.Store, profs profiles.Recipients, grace time.Duration, now func() time.Time) Operation {
	return Operation{"POST", "/api/v1/user-data-processing/{fiscal_code}", public(svcs, []auth.Group{auth.ProfileWrite}, func(w http.ResponseWriter, r request) error {
		fc, err := fiscalCodeParam(r, "fiscal_code")
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		choice, err := userdata.ParseChoice(body)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		req, err := userdata.Start(r.Context(), st, profs, fc, choice, grace, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, req.View())
		return nil
	})}
}

// userDataTarget validates the path of the operations on one request.
func userDataTarget(r request) (string, string, error) {
	fc, err := fiscalCodeParam(r, "fiscal_code")
	if err != nil {
		return "", "", err
	}
	choice := r.PathValue("choice")
	if err := userdata.ValidChoice(choice); err != nil {
		return "", "", err
	}
	return fc, choice, r.checkSource()
}

// GetUserDataProcessing serves GET /api/v1/user-data-processing/{fiscal_code}/{choice}:
// the latest request's status; a closed download carries a fresh link to
// its archive (an hour) while the archive is kept.
func GetUserDataProcessing(svcs services.Store, st userdata.Store, files Linker, now func() time.Time) Operation {
	return Operation{"GET", "/api/v1/user-data-processing/{fiscal_code}/{choice}", public(svcs, []auth.Group{auth.FullProfileRead}, func(w http.ResponseWriter, r request) error {
		fc, choice, err := userDataTarget(r)
		if err != nil {
			return err
		}
		req, err := userdata.Get(r.Context(), st, fc, choice)
		if err != nil {
			return err
		}
		v := req.View()
		if req.Status == userdata.Closed && req.Archive != "" && now().Before(req.UpdatedAt.Add(userdata.ArchiveTTL)) {
			if v.DownloadURL, err = files.Link(r.Context(), req.Archive, time.Hour); err != nil {
				v.DownloadURL = "" // the status is still worth answering
			}
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	})}
}

// AbortUserDataProcessing serves DELETE /api/v1/user-data-processing/{fiscal_code}/{choice}:
// a pending deletion is ABORTED.
func AbortUserDataProcessing(svcs services.Store, st userdata.Store, now func() time.Time) Operation {
	return Operation{"DELETE", "/api/v1/user-data-processing/{fiscal_code}/{choice}", public(svcs, []auth.Group{auth.ProfileWrite}, func(w http.ResponseWriter, r request) error {
		fc, choice, err := userDataTarget(r)
		if err != nil {
			return err
		}
		req, err := userdata.Abort(r.Context(), st, fc, choice, now())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, req.View())
		return nil
	})}
}
