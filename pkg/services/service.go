// Package services provides the sending services of public administrations:
// their attributes, validation, versioned storage contract and the admin use
// cases (create, read, update). A service id equals the id of the subscription
// whose keys speak for it.
package services

import (
	"context"
	"fmt"

	"github.com/digital-citizenship/functions/pkg/fiscalcode"
	"github.com/digital-citizenship/functions/pkg/paging"
	"github.com/digital-citizenship/functions/pkg/validate"
)

// MaxPaymentAmount is the inclusive upper bound of amounts, in euro cents.
const MaxPaymentAmount int64 = 9999999999

// Service is one version of a service.
type Service struct {
	ServiceID               string   `json:"service_id"`
	ServiceName             string   `json:"service_name"`
	OrganizationName        string   `json:"organization_name"`
	DepartmentName          string   `json:"department_name"`
	OrganizationFiscalCode  string   `json:"organization_fiscal_code"`
	AuthorizedCIDRs         []string `json:"authorized_cidrs"`
	AuthorizedRecipients    []string `json:"authorized_recipients"`
	IsVisible               bool     `json:"is_visible"`
	MaxAllowedPaymentAmount int64    `json:"max_allowed_payment_amount"`
	// ReminderOffsets are how long before an ADVANCED message's due date
	// the citizen is reminded, in seconds; none: DefaultReminderOffsets.
	ReminderOffsets []int `json:"reminder_offsets,omitempty"`
	// DailyMessageLimit bounds the messages the service may submit in a
	// calendar day (Europe/Rome); 0 (a service stored before limits):
	// DefaultDailyMessageLimit.
	DailyMessageLimit int `json:"daily_message_limit,omitempty"`
	// RequireSecureChannels is the default of its messages'
	// content.require_secure_channels: no e-mail, a push without subject.
	RequireSecureChannels bool `json:"require_secure_channels"`
	// OpeningDeadlineDays is how long a citizen has to open a message with
	// an opening condition before its non-opening is signed; 0 (a service
	// stored before): DefaultOpeningDeadlineDays.
	OpeningDeadlineDays int `json:"opening_deadline_days,omitempty"`
	// BulkThresholdPerMinute is how many submissions in a minute put the
	// service's next messages in the bulk lane; 0: the platform's default
	// (the BulkThresholdPerMinute parameter).
	BulkThresholdPerMinute int `json:"bulk_threshold_per_minute,omitempty"`
	Version                int `json:"version"`
	// CallbackEvents are the delivery callbacks the service asked for (its
	// callback configuration, kept apart from its versions), none without
	// one. They travel with the service in the authorizer's context.
	CallbackEvents []string `json:"callback_events,omitempty"`
}

// Opening deadlines: the default and the bounds of a service's own, in days.
const (
	DefaultOpeningDeadlineDays = 10
	MinOpeningDeadlineDays     = 1
	MaxOpeningDeadlineDays     = 365
)

// The bounds of a service's own bulk threshold, in submissions a minute.
const (
	MinBulkThresholdPerMinute = 1
	MaxBulkThresholdPerMinute = 1000000
)

// OpeningDeadline returns the service's opening deadline in days, or the
// default.
func (s Service) OpeningDeadline() int {
	if s.OpeningDeadlineDays == 0 {
		return DefaultOpeningDeadlineDays
	}
	return s.OpeningDeadlineDays
}

// Daily limits of messages: the default (GOV.UK Notify's) and the bounds
// of a service's own.
const (
	DefaultDailyMessageLimit = 250000
	MinDailyMessageLimit     = 1
	MaxDailyMessageLimit     = 100000000
)

// DailyLimit returns the service's daily message limit, or the default.
func (s Service) DailyLimit() int {
	if s.DailyMessageLimit == 0 {
		return DefaultDailyMessageLimit
	}
	return s.DailyMessageLimit
}

// Reminder offsets: the default (7 days and 1 day before the due date) and
// the limits of a service's own.
var DefaultReminderOffsets = []int{7 * 86400, 86400}

const (
	MaxReminderOffsets = 3
	MinReminderOffset  = 3600
	MaxReminderOffset  = 30 * 86400
)

// Reminders returns the service's reminder offsets, or the default ones.
func (s Service) Reminders() []int {
	if len(s.ReminderOffsets) == 0 {
		return DefaultReminderOffsets
	}
	return s.ReminderOffsets
}

// DocumentID is the original's versioned document id, "<id>-<16 digits>".
func (s Service) DocumentID() string { return fmt.Sprintf("%s-%016d", s.ServiceID, s.Version) }

// Admin is the admin API view of a service (the original's Service).
type Admin struct {
	Service
	ID string `json:"id"`
}

// AdminView returns the admin API representation.
// The limit shown is the one in force (the default for a service without
// its own).
func (s Service) AdminView() Admin {
	s.DailyMessageLimit = s.DailyLimit()
	s.OpeningDeadlineDays = s.OpeningDeadline()
	s.CallbackEvents = nil // the service's own business (GET /api/v1/callback)
	return Admin{Service: s, ID: s.DocumentID()}
}

// Public is the public API view (the original's ServicePublic).
type Public struct {
	ServiceID              string `json:"service_id"`
	ServiceName            string `json:"service_name"`
	OrganizationName       string `json:"organization_name"`
	DepartmentName         string `json:"department_name"`
	OrganizationFiscalCode string `json:"organization_fiscal_code"`
	Version                int    `json:"version"`
}

// PublicView returns the public API representation.
func (s Service) PublicView() Public {
	return Public{s.ServiceID, s.ServiceName, s.OrganizationName, s.DepartmentName, s.OrganizationFiscalCode, s.Version}
}

// Tuple names a service version in lists.
type Tuple struct {
	ServiceID string `json:"service_id"`
	Version   int    `json:"version"`
}

// Store keeps every version of every service, and the catalogue of visible
// services, maintained on every write (no scans, no timers).
type Store interface {
	// Latest returns the newest version, or problem.ErrNotFound.
	Latest(ctx context.Context, serviceID string) (Service, error)
	// Create stores s as a new version and updates the catalogue in the same
	// write; problem.ErrConflict if that version exists.
	Create(ctx context.Context, s Service) error
	// Visible lists the visible services by id, one page at a time.
	Visible(ctx context.Context, r paging.Request) (paging.Page[Tuple], error)
}

// Input is the body of createService and updateService; pointers tell absent
// fields from zero values.
type Input struct {
	ServiceID               *string   `json:"service_id"`
	ServiceName             *string   `json:"service_name"`
	OrganizationName        *string   `json:"organization_name"`
	DepartmentName          *string   `json:"department_name"`
	OrganizationFiscalCode  *string   `json:"organization_fiscal_code"`
	AuthorizedCIDRs         *[]string `json:"authorized_cidrs"`
	AuthorizedRecipients    *[]string `json:"authorized_recipients"`
	IsVisible               *bool     `json:"is_visible"`
	MaxAllowedPaymentAmount *int64    `json:"max_allowed_payment_amount"`
	ReminderOffsets         *[]int    `json:"reminder_offsets"`
	DailyMessageLimit       *int64    `json:"daily_message_limit"`
	RequireSecureChannels   *bool     `json:"require_secure_channels"`
	OpeningDeadlineDays     *int64    `json:"opening_deadline_days"`
	BulkThresholdPerMinute  *int64    `json:"bulk_threshold_per_minute"`
}

// InvalidTitle is the title of every 400 about a service body.
const InvalidTitle = "Invalid Exact<Service>"

var (
	cidr       = validate.Regexp(`^([0-9]{1,3}[.]){3}[0-9]{1,3}(/([0-9]|[1-2][0-9]|3[0-2]))?$`)
	orgFiscal  = validate.Regexp(`^[0-9]{11}$`)
	nonEmptyOf = func(r *validate.Report, name string, v *string) string {
		switch {
		case v == nil || *v == "":
			r.Addf(name, "a non empty string")
			return ""
		case !validate.SingleLine(*v):
			r.Addf(name, "a string on one line without control characters")
			return ""
		}
		return *v
	}
)

// Parse decodes and validates a service body; id and version are ignored.
func Parse(body []byte) (Service, error) {
	var in Input
	if err := validate.DecodeJSON(body, &in, InvalidTitle); err != nil {
		return Service{}, err
	}
	r := validate.NewReport(InvalidTitle)
	s := Service{
		ServiceID:        nonEmptyOf(r, "service_id", in.ServiceID),
		ServiceName:      nonEmptyOf(r, "service_name", in.ServiceName),
		OrganizationName: nonEmptyOf(r, "organization_name", in.OrganizationName),
		DepartmentName:   nonEmptyOf(r, "department_name", in.DepartmentName),
	}
	if in.OrganizationFiscalCode == nil || !orgFiscal().MatchString(*in.OrganizationFiscalCode) {
		r.Addf("organization_fiscal_code", "an organization fiscal code (11 digits)")
	} else {
		s.OrganizationFiscalCode = *in.OrganizationFiscalCode
	}
	s.AuthorizedCIDRs = parseList(r, "authorized_cidrs", in.AuthorizedCIDRs, func(s string) bool { return cidr().MatchString(s) }, "an IPv4 address or CIDR")
	s.AuthorizedRecipients = parseList(r, "authorized_recipients", in.AuthorizedRecipients, fiscalcode.Valid, "a fiscal code")
	if in.IsVisible != nil {
		s.IsVisible = *in.IsVisible
	}
	if a := in.MaxAllowedPaymentAmount; a != nil {
		if *a < 0 || *a > MaxPaymentAmount {
			r.Addf("max_allowed_payment_amount", "an integer between 0 and %d", MaxPaymentAmount)
		}
		s.MaxAllowedPaymentAmount = *a
	}
	if o := in.ReminderOffsets; o != nil {
		if len(*o) > MaxReminderOffsets {
			r.Addf("reminder_offsets", "an array of at most %d offsets", MaxReminderOffsets)
		}
		for i, v := range *o {
			if v < MinReminderOffset || v > MaxReminderOffset {
				r.Addf(fmt.Sprintf("reminder_offsets.%d", i), "an integer between %d and %d (seconds before the due date)", MinReminderOffset, MaxReminderOffset)
			}
		}
		s.ReminderOffsets = *o
	}
	s.DailyMessageLimit = DefaultDailyMessageLimit
	if l := in.DailyMessageLimit; l != nil {
		if *l < MinDailyMessageLimit || *l > MaxDailyMessageLimit {
			r.Addf("daily_message_limit", "an integer between %d and %d", MinDailyMessageLimit, MaxDailyMessageLimit)
		}
		s.DailyMessageLimit = int(*l)
	}
	s.RequireSecureChannels = in.RequireSecureChannels != nil && *in.RequireSecureChannels
	s.OpeningDeadlineDays = DefaultOpeningDeadlineDays
	if d := in.OpeningDeadlineDays; d != nil {
		if *d < MinOpeningDeadlineDays || *d > MaxOpeningDeadlineDays {
			r.Addf("opening_deadline_days", "an integer between %d and %d (days)", MinOpeningDeadlineDays, MaxOpeningDeadlineDays)
		}
		s.OpeningDeadlineDays = int(*d)
	}
	if b := in.BulkThresholdPerMinute; b != nil {
		if *b < MinBulkThresholdPerMinute || *b > MaxBulkThresholdPerMinute {
			r.Addf("bulk_threshold_per_minute", "an integer between %d and %d (submissions a minute)", MinBulkThresholdPerMinute, MaxBulkThresholdPerMinute)
		}
		s.BulkThresholdPerMinute = int(*b)
	}
	return s, r.Err()
}

func parseList(r *validate.Report, name string, in *[]string, ok func(string) bool, what string) []string {
	if in == nil {
		r.Addf(name, "an array")
		return nil
	}
	out := make([]string, 0, len(*in))
	for i, v := range *in {
		if !ok(v) {
			r.Addf(fmt.Sprintf("%s.%d", name, i), "%s", what)
		}
		out = append(out, v)
	}
	return out
}
