// Package dynamodb implements the domain stores on Amazon DynamoDB. Every
// table has a string partition key "pk" and sort key "sk"; this file holds
// every key format, so the layout of the data can be read in one place.
//
//	AccountsTable  USER#<email>               #               a user and its groups
//	               SUB#<subscription id>      #               a subscription, its kind (TEST; absent: LIVE) and key hashes
//	               KEY#<sha256 of key>        #               key index: hash -> subscription (test: a TEST one)
//	ServicesTable  SERVICE#<service id>       RC#<ulid>       a remote-content configuration of the service
//	ServicesTable  SERVICE#<service id>       V#<version:16>  every version of a service
//	               SERVICE#<service id>       ~CALLBACK       its callback configuration (after the versions)
//	               VISIBLE                    SERVICE#<id>    the catalogue of visible services
//	ProfilesTable  PROFILE#<fiscal code>      V#<version:16>  every version of a profile
//	               PROFILE#<fiscal code>      ~BOUNCE         the address that bounced or complained
//	               PROFILE#<fiscal code>      ~DEVICES        the citizen's devices, "dev:<installation id>"
//	               PROFILE#<fiscal code>      ~EMAIL          the validated address, the last link e-mailed
//	               PROFILE#<fiscal code>      ~PREFS          per-service preferences of the settings version
//	               WELCOME#<fiscal code>      #               the citizen got the welcome messages
//	               TOKEN#<token id>           #               an e-mail validation token (expires_at TTL)
//	               UDP#<fiscal code>          <choice>        the latest user-data-processing request of a choice
//	               UDP-DUE#<choice>           <due>#<fc>#<ch> index of the open requests by due time
//	               INSTALLATION#<id>          #               an installation: citizen, platform, endpoint
//	               FEED#<day>#P#<NN>          <sha256 of fc>  the subscriptions feed: a citizen's change of a UTC day for
//	               FEED#<day>#S#<service>#<NN>                every service (P) or one; NN its hash's first hex digit
//	                                                          (16 shards); expires_at TTL, 90 days after (feed.go)
//	               FEEDOF#<fiscal code>       #               the keys of the citizen's feed entries (for the erasure)
//	               ENDPOINT#<endpoint arn>    #               endpoint index: SNS endpoint -> installation
//	MessagesTable  INBOX#<fiscal code>        MSG#<ulid>      a message, its status and channels (a test key's: is_test,
//	                                                          expires_at TTL, 7 days)
//	               INBOX#<fiscal code>        SENDER#<id>     a service that wrote to the citizen
//	               IDEM#<service>#<key hash>  #               an Idempotency-Key (expires_at TTL)
//	               RECEIPT#<payee>#<notice>   #               a payment receipt, without the payer's fiscal code (expires_at
//	                                                          TTL, 30 days; erased with the citizen of its notice's message)
//	               QUOTA#<service>#<day>#<NN> #               a counter of a service's messages of a day (Europe/Rome),
//	                                                          one of up to 16 shards (n; expires_at TTL, 32 days after:
//	                                                          the usage a service sees covers 30 days)
//
//	MessagesTable  AcceptedIndex (keys only): accepted_shard ACCEPTED#<00-15>, requeue_at (epoch seconds):
//	               the messages still ACCEPTED, by the time from which requeue-messages counts.
//	MessagesTable  PaymentIndex (keys only): payment_key <payee>#<notice>: the messages of a payment notice.
//	MessagesTable  ScheduledIndex (keys only): sched_shard SCHED#<00-15>, sched_at (epoch seconds): the
//	               SCHEDULED messages not yet released, by their time.
//	MessagesTable  SenderIndex: sender_shard <service>#<00-15>, sk MSG#<ulid>: what a service sent, by time
//	               (the list's attributes projected: sent.go).
//	MessagesTable  ReferenceIndex: ref_key <service>#<sha256 of reference, 32 hex>, sk MSG#<ulid>:
//	               a service's messages by its own reference (sparse: messages with one).
//	MessagesTable  OpeningIndex (keys only): open_shard OPEN#<00-15>, open_due (epoch seconds): the messages
//	               that may have an opening condition, not opened yet, by their deadline (openings.go).
package dynamodb

import (
	"fmt"

	"github.com/digital-citizenship/functions/pkg/messages"
)

const (
	attrPK      = "pk"
	attrSK      = "sk"
	metaSK      = "#"
	versionPfx  = "V#"
	messagePfx  = "MSG#"
	senderPfx   = "SENDER#"
	attrExpires = "expires_at"
	// attrWriteToken marks the conditional put that created an item, so
	// that an SDK retry of that put knows it for its own (table.create).
	attrWriteToken = "write_token"
	// attrStatusToken marks the citizen's last change of a message's status
	// (read, archived), so that a retry of it is not counted twice.
	attrStatusToken = "status_token"

	paymentIndex      = "PaymentIndex"
	attrPaymentKey    = "payment_key"
	acceptedIndex     = "AcceptedIndex"
	acceptedPfx       = "ACCEPTED#"
	attrAcceptedShard = "accepted_shard"
	attrRequeueAt     = "requeue_at"
	scheduledIndex    = "ScheduledIndex"
	schedPfx          = "SCHED#"
	attrSchedShard    = "sched_shard"
	attrSchedAt       = "sched_at"
	senderIndex       = "SenderIndex"
	attrSenderShard   = "sender_shard"
	referenceIndex    = "ReferenceIndex"
	attrRefKey        = "ref_key"
)

func userPK(email string) string             { return "USER#" + email }
func subscriptionPK(id string) string        { return "SUB#" + id }
func keyPK(hash string) string               { return "KEY#" + hash }
func servicePK(id string) string             { return "SERVICE#" + id }
func remoteContentSK(id string) string       { return remoteContentPfx + id }
func profilePK(fiscalCode string) string     { return "PROFILE#" + fiscalCode }
func inboxPK(fiscalCode string) string       { return "INBOX#" + fiscalCode }
func messageSK(id string) string             { return messagePfx + id }
func senderSK(serviceID string) string       { return senderPfx + serviceID }
func installationPK(id string) string        { return "INSTALLATION#" + id }
func welcomePK(fiscalCode string) string     { return "WELCOME#" + fiscalCode }
func tokenPK(id string) string               { return "TOKEN#" + id }
func userDataPK(fiscalCode string) string    { return "UDP#" + fiscalCode }
func receiptPK(payee, notice string) string  { return "RECEIPT#" + payee + "#" + notice }
func paymentKey(payee, notice string) string { return payee + "#" + notice }
func quotaPK(serviceID, day string, shard int) string {
	return fmt.Sprintf("QUOTA#%s#%s#%02d", serviceID, day, shard)
}

// quotaDay is the day of a counter's key (QUOTA#<service>#<day>#<NN>).
func quotaDay(pk string) string {
	if len(pk) < len("#2006-01-02#00") {
		return ""
	}
	end := len(pk) - len("#00")
	return pk[end-len("2006-01-02") : end]
}

// userDataDuePK is the partition of the index of open user-data requests
// of a choice.
func userDataDuePK(choice string) string { return "UDP-DUE#" + choice }

func endpointPK(arn string) string            { return "ENDPOINT#" + arn }
func deviceAttr(installationID string) string { return devicePfx + installationID }

// The "~" items sort after every version: read backwards, the citizen's
// partition gives preferences, validated address, devices, bounce and the
// latest version in one query.
const (
	devicesSK       = "~DEVICES"
	undeliverableSK = "~BOUNCE"
	preferencesSK   = "~PREFS"
	emailSK         = "~EMAIL"
	devicePfx       = "dev:"

	attrTokens          = "tokens"
	attrSettingsVersion = "settings_version"
	attrPrefs           = "prefs"
)

func versionSK(v int) string { return fmt.Sprintf("%s%016d", versionPfx, v) }

func idempotencyPK(serviceID, keyHash string) string { return "IDEM#" + serviceID + "#" + keyHash }

// The catalogue of visible services lives in one partition of the services
// table, written in the same transaction as each service version.
const visiblePK = "VISIBLE"

func visibleSK(serviceID string) string { return servicePfx + serviceID }

const servicePfx = "SERVICE#"

// remoteContentPfx sorts a service's configurations before its versions: a
// read of its latest version (backwards) never meets them.
const remoteContentPfx = "RC#"

// callbackSK sorts after every version: read backwards, a service's
// partition gives its callback configuration and its latest version.
const callbackSK = "~CALLBACK"

// The reminders' index: an ADVANCED message with a due date is in it until
// its last reminder, by the time of the next one.
const (
	reminderIndex   = "ReminderIndex"
	remindPfx       = "REMIND#"
	attrRemindShard = "remind_shard"
	attrRemindAt    = "remind_at"
)

// The openings' index: a message that may have an opening condition is in
// it from its processing until it is opened or its non-opening recorded.
const (
	openingIndex  = "OpeningIndex"
	openPfx       = "OPEN#"
	attrOpenShard = "open_shard"
	attrOpenDue   = "open_due"
)

func openShard(n int) string { return fmt.Sprintf("%s%02d", openPfx, n) }

// IndexShards returns, for each sharded index of MessagesTable, how many
// partition keys it spreads its items over (the capacity model's hot keys).
func IndexShards() map[string]int {
	return map[string]int{senderIndex: senderShards, acceptedIndex: acceptedShards, scheduledIndex: messages.ScheduledShards,
		reminderIndex: messages.ReminderShards, openingIndex: messages.OpeningShards}
}
