package httpapi

import (
	"net/http"

	"github.com/digital-citizenship/functions/pkg/auth"
	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/push"
	"github.com/digital-citizenship/functions/pkg/services"
)

// InstallationView is the body of a registered installation.
type InstallationView struct {
	InstallationID string `json:"installation_id"`
	FiscalCode     string `json:"fiscal_code"`
	Platform       string `json:"platform"`
}

func installationID(r request) (string, error) {
	id := r.PathValue("installation_id")
	if !push.ValidID(id) {
		return "", problem.Invalidf(push.InvalidTitle, "value.installation_id is not an installation id (1 to 128 of A-Z a-z 0-9 - _ . :)")
	}
	return id, nil
}

// PutInstallation serves PUT /api/v1/installations/{installation_id}: the
// app backend registers (or updates) a citizen's device for push.
func PutInstallation(svcs services.Store, reg push.Registrar) Operation {
	return Operation{"PUT", "/api/v1/installations/{installation_id}", public(svcs, []auth.Group{auth.InstallationWrite}, func(w http.ResponseWriter, r request) error {
		id, err := installationID(r)
		if err != nil {
			return err
		}
		body, err := readBody(r.Request)
		if err != nil {
			return err
		}
		in, err := push.Parse(body, fiscalcode.Normalize)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		inst, err := reg.Register(r.Context(), id, in)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, InstallationView{inst.ID, inst.FiscalCode, inst.Platform})
		return nil
	})}
}

// DeleteInstallation serves DELETE /api/v1/installations/{installation_id}:
// 204 whether or not the installation existed, so that a retry is safe.
func DeleteInstallation(svcs services.Store, reg push.Registrar) Operation {
	return Operation{"DELETE", "/api/v1/installations/{installation_id}", public(svcs, []auth.Group{auth.InstallationWrite}, func(w http.ResponseWriter, r request) error {
		id, err := installationID(r)
		if err != nil {
			return err
		}
		if err := r.checkSource(); err != nil {
			return err
		}
		if err := reg.Unregister(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})}
}
