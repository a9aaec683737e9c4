package dynamodb

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/digital-citizenship/functions/pkg/awstest"
	"github.com/digital-citizenship/functions/pkg/storetest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

func TestStores_Contract(t *testing.T) {
	cfg, st := awstest.Stack(t)
	db := dynamodb.NewFromConfig(cfg)
	t.Run("services", func(t *testing.T) { storetest.ServicesContract(t, NewServices(db, st.Refs["ServicesTable"])) })
	t.Run("profiles", func(t *testing.T) { storetest.ProfilesContract(t, NewProfiles(db, st.Refs["ProfilesTable"])) })
	t.Run("messages", func(t *testing.T) { storetest.MessagesContract(t, NewMessages(db, st.Refs["MessagesTable"])) })
	t.Run("payments", func(t *testing.T) { storetest.PaymentsContract(t, NewMessages(db, st.Refs["MessagesTable"])) })
	t.Run("reminders", func(t *testing.T) { storetest.RemindersContract(t, NewMessages(db, st.Refs["MessagesTable"])) })
	t.Run("accounts", func(t *testing.T) { storetest.AccountsContract(t, NewAccounts(db, st.Refs["AccountsTable"])) })
	t.Run("installations", func(t *testing.T) {
		storetest.InstallationsContract(t, NewInstallations(db, st.Refs["ProfilesTable"]), NewProfiles(db, st.Refs["ProfilesTable"]))
	})
	t.Run("user data", func(t *testing.T) { storetest.UserDataContract(t, NewUserData(db, st.Refs["ProfilesTable"])) })
	t.Run("holdings", func(t *testing.T) {
		p, m := st.Refs["ProfilesTable"], st.Refs["MessagesTable"]
		storetest.HoldingsContract(t, NewHoldings(db, p, m), storetest.HoldingsStores{Profiles: NewProfiles(db, p),
			Messages: NewMessages(db, m), Payments: NewMessages(db, m), Installations: NewInstallations(db, p), UserData: NewUserData(db, p)})
	})
	t.Run("callbacks", func(t *testing.T) { storetest.CallbacksContract(t, NewServices(db, st.Refs["ServicesTable"])) })
	t.Run("scheduled", func(t *testing.T) {
		_, fresh := awstest.Stack(t)
		storetest.ScheduledContract(t, NewMessages(db, fresh.Refs["MessagesTable"]))
	})
	t.Run("quotas", func(t *testing.T) { storetest.QuotasContract(t, NewMessages(db, st.Refs["MessagesTable"])) })
	t.Run("openings", func(t *testing.T) { storetest.OpeningsContract(t, NewMessages(db, st.Refs["MessagesTable"])) })
	t.Run("remote content", func(t *testing.T) {
		storetest.RemoteContentContract(t, NewRemoteContents(db, st.Refs["ServicesTable"]),
			NewMessages(db, st.Refs["MessagesTable"]).WithConfigurations(st.Refs["ServicesTable"]))
	})
	t.Run("sent", func(t *testing.T) {
		_, fresh := awstest.Stack(t)
		storetest.SentContract(t, NewMessages(db, fresh.Refs["MessagesTable"]))
	})
	t.Run("lists", func(t *testing.T) {
		_, fresh := awstest.Stack(t)
		storetest.ListsContract(t, NewServices(db, fresh.Refs["ServicesTable"]), NewMessages(db, fresh.Refs["MessagesTable"]))
	})
}

// The stores are tested on the official DynamoDB Local, which is as strict
// as DynamoDB where moto is lax: it refuses a two-character table name.
func TestStores_RunOnDynamoDBLocal(t *testing.T) {
	cfg, _ := awstest.Stack(t)
	_, err := dynamodb.NewFromConfig(cfg).DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("ab")})
	var invalid smithy.APIError
	if !errors.As(err, &invalid) || invalid.ErrorCode() != "ValidationException" {
		t.Fatalf("DescribeTable of a 2-character name: %v; want DynamoDB's ValidationException (is this DynamoDB Local?)", err)
	}
}
