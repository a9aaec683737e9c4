// Package sandbox lists the documented sandbox citizens: fiscal codes and
// e-mail addresses whose messages, from a test key (and in the local stack
// from any key), have a known simulated outcome (pkg/simulator). The
// portal's sandbox, the README and the quick start show them.
package sandbox

import "slices"

// Outcomes a simulated citizen or address gives.
const (
	Delivered   = "DELIVERED"
	NotFound    = "USER_NOT_FOUND"
	NotAllowed  = "SERVICE_NOT_ALLOWED"
	Bounce      = "EMAIL_BOUNCE"
	TempFail    = "EMAIL_TEMPORARY_FAILURE"
	PushFailure = "PUSH_PERMANENT_FAILURE"
	Late        = "DELIVERED_LATE"
)

// Domain is the simulated addresses' domain: .invalid never resolves
// (RFC 2606), so a simulated address cannot reach anyone even if a live
// message were sent to it.
const Domain = "simulator.io.invalid"

// Citizen is a documented sandbox citizen: its fiscal code, the address its
// e-mail goes to (none for those whose messages are rejected), the outcome
// and what a sender sees.
type Citizen struct {
	FiscalCode  string `json:"fiscal_code"`
	Email       string `json:"email,omitempty"`
	Outcome     string `json:"outcome"`
	Description string `json:"description"`
}

// LateBySeconds is how late a DELIVERED_LATE citizen's channels are delivered, and
// FailuresBeforeSuccess how many times an EMAIL_TEMPORARY_FAILURE e-mail
// fails before it is delivered.
const (
	LateBySeconds         = 60
	FailuresBeforeSuccess = 2
)

// Citizens are the documented sandbox citizens, in the order the portal
// and the README list them. Their fiscal codes match profiles.SandboxPattern.
var Citizens = []Citizen{
	{"SIMDLV00A00Y001X", "delivered@" + Domain, Delivered,
		"PROCESSED; e-mail, push (two devices) and webhook SENT."},
	{"SIMNFD00A00Y002X", "", NotFound,
		"REJECTED, rejection_reason USER_NOT_FOUND: the citizen has no profile."},
	{"SIMOFF00A00Y003X", "", NotAllowed,
		"REJECTED, rejection_reason SERVICE_NOT_ALLOWED: the citizen turned the service off."},
	{"SIMBNC00A00Y004X", "bounce@" + Domain, Bounce,
		"PROCESSED; e-mail FAILED (a hard bounce), every time; a development profile of yours with this address is marked undeliverable, as a real bounce marks it; push and webhook SENT."},
	{"SIMTMP00A00Y005X", "temp-fail@" + Domain, TempFail,
		"PROCESSED; e-mail THROTTLED twice (notification_retries.email 2), then SENT."},
	{"SIMPSH00A00Y006X", "push-fail@" + Domain, PushFailure,
		"PROCESSED; push FAILED (no device accepted it); e-mail and webhook SENT."},
	{"SIMLAT00A00Y007X", "late@" + Domain, Late,
		"PROCESSED; every channel THROTTLED, then SENT 60 seconds after the message was created."},
}

// ByFiscalCode returns the documented citizen of a fiscal code.
func ByFiscalCode(fiscalCode string) (Citizen, bool) {
	i := slices.IndexFunc(Citizens, func(c Citizen) bool { return c.FiscalCode == fiscalCode })
	if i < 0 {
		return Citizen{}, false
	}
	return Citizens[i], true
}
