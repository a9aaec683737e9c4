package storetest

import "testing"

func TestFakes_Contract(t *testing.T) {
	t.Run("services", func(t *testing.T) { ServicesContract(t, &Services{}) })
	t.Run("profiles", func(t *testing.T) { ProfilesContract(t, &Profiles{}) })
	t.Run("messages", func(t *testing.T) { MessagesContract(t, &Messages{}) })
	t.Run("payments", func(t *testing.T) { PaymentsContract(t, &Messages{}) })
	t.Run("reminders", func(t *testing.T) { RemindersContract(t, &Messages{}) })
	t.Run("accounts", func(t *testing.T) { AccountsContract(t, &Accounts{}) })
	t.Run("lists", func(t *testing.T) { ListsContract(t, &Services{}, &Messages{}) })
	t.Run("installations", func(t *testing.T) {
		inst := &Installations{}
		InstallationsContract(t, inst, &Profiles{Installations: inst})
	})
}

func TestFakes_SentContract(t *testing.T) { SentContract(t, &Messages{}) }

func TestFakes_QuotasContract(t *testing.T) { QuotasContract(t, &Messages{}) }

func TestFakes_CallbacksContract(t *testing.T) { CallbacksContract(t, &Services{}) }

func TestFakes_ScheduledContract(t *testing.T) { ScheduledContract(t, &Messages{}) }

func TestFakes_RemoteContentContract(t *testing.T) {
	rc := &RemoteContents{}
	RemoteContentContract(t, rc, &Messages{Configurations: rc})
}

func TestFakes_OpeningsContract(t *testing.T) { OpeningsContract(t, &Messages{}) }
