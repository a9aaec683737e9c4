package dynamodb

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/digital-citizenship/functions/pkg/problem"
	"github.com/digital-citizenship/functions/pkg/profiles"
	"github.com/digital-citizenship/functions/pkg/push"
)

// Installations stores push installations in the profiles table (keys.go):
// one item per installation, one per endpoint, and the citizen's devices
// beside the profile versions, so that processing a message reads them with
// the profile.
type Installations struct{ t table }

// NewInstallations returns the installations store on the profiles table.
func NewInstallations(api API, profilesTable string) *Installations {
	return &Installations{table{api, profilesTable}}
}

type installationItem struct {
	PK          string `dynamodbav:"pk"`
	SK          string `dynamodbav:"sk"`
	ID          string `dynamodbav:"installation_id"`
	FiscalCode  string `dynamodbav:"fiscal_code"`
	Platform    string `dynamodbav:"platform"`
	EndpointARN string `dynamodbav:"endpoint_arn"`
}

type deviceValue struct {
	Platform    string `dynamodbav:"platform"`
	EndpointARN string `dynamodbav:"endpoint_arn"`
}

func (it installationItem) installation() push.Installation {
	return push.Installation{ID: it.ID, FiscalCode: it.FiscalCode, Platform: it.Platform, EndpointARN: it.EndpointARN}
}

// Installation implements push.Store.
func (s *Installations) Installation(ctx context.Context, id string) (push.Installation, error) {
	var it installationItem
	if err := s.t.get(ctx, installationPK(id), metaSK, &it); err != nil {
		return push.Installation{}, wrap("get installation", err)
	}
	return it.installation(), nil
}

// ByEndpoint implements push.Store.
func (s *Installations) ByEndpoint(ctx context.Context, arn string) (push.Installation, error) {
	var it installationItem
	if err := s.t.get(ctx, endpointPK(arn), metaSK, &it); err != nil {
		return push.Installation{}, wrap("get endpoint", err)
	}
	return it.installation(), nil
}

// Put implements push.Store: one transaction writes the installation, its
// endpoint index and the citizen's device, and removes what it replaces.
func (s *Installations) Put(ctx context.Context, inst push.Installation, replaces []push.Installation) error {
	var items []types.TransactWriteItem
	put := func(pk string) error {
		av, err := attributevalue.MarshalMap(installationItem{pk, metaSK, inst.ID, inst.FiscalCode, inst.Platform, inst.EndpointARN})
		if err == nil {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: &s.t.name, Item: av}})
		}
		return err
	}
	if err := put(installationPK(inst.ID)); err != nil {
		return err
	}
	if err := put(endpointPK(inst.EndpointARN)); err != nil {
		return err
	}
	deleted := map[string]bool{installationPK(inst.ID): true, endpointPK(inst.EndpointARN): true}
	devices := map[string]*expression.UpdateBuilder{}
	device := func(fc string) *expression.UpdateBuilder {
		if devices[fc] == nil {
			devices[fc] = &expression.UpdateBuilder{}
		}
		return devices[fc]
	}
	*device(inst.FiscalCode) = device(inst.FiscalCode).Set(expression.Name(deviceAttr(inst.ID)),
		expression.Value(deviceValue{inst.Platform, inst.EndpointARN}))
	for _, old := range replaces {
		for _, pk := range []string{installationPK(old.ID), endpointPK(old.EndpointARN)} {
			if !deleted[pk] {
				deleted[pk] = true
				items = append(items, types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: key(pk, metaSK)}})
			}
		}
		if old.FiscalCode != inst.FiscalCode || old.ID != inst.ID {
			*device(old.FiscalCode) = device(old.FiscalCode).Remove(expression.Name(deviceAttr(old.ID)))
		}
	}
	fcs := make([]string, 0, len(devices))
	for fc := range devices {
		fcs = append(fcs, fc)
	}
	sort.Strings(fcs)
	for _, fc := range fcs {
		e, err := expression.NewBuilder().WithUpdate(*devices[fc]).Build()
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: &s.t.name, Key: key(profilePK(fc), devicesSK),
			UpdateExpression: e.Update(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}})
	}
	return wrap("put installation", s.t.transact(ctx, items...))
}

// Remove implements push.Store. An installation registered again with
// another endpoint meanwhile is kept.
func (s *Installations) Remove(ctx context.Context, inst push.Installation) error {
	cond, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(attrPK)).
		Or(expression.Name("endpoint_arn").Equal(expression.Value(inst.EndpointARN)))).Build()
	if err != nil {
		return err
	}
	upd, err := expression.NewBuilder().WithUpdate(expression.Remove(expression.Name(deviceAttr(inst.ID)))).
		WithCondition(expression.AttributeNotExists(expression.Name(deviceAttr(inst.ID) + ".endpoint_arn")).
			Or(expression.Name(deviceAttr(inst.ID) + ".endpoint_arn").Equal(expression.Value(inst.EndpointARN)))).Build()
	if err != nil {
		return err
	}
	err = s.t.transact(ctx,
		types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: key(installationPK(inst.ID), metaSK),
			ConditionExpression: cond.Condition(), ExpressionAttributeNames: cond.Names(), ExpressionAttributeValues: cond.Values()}},
		types.TransactWriteItem{Delete: &types.Delete{TableName: &s.t.name, Key: key(endpointPK(inst.EndpointARN), metaSK)}},
		types.TransactWriteItem{Update: &types.Update{TableName: &s.t.name, Key: key(profilePK(inst.FiscalCode), devicesSK),
			UpdateExpression: upd.Update(), ConditionExpression: upd.Condition(), ExpressionAttributeNames: upd.Names(),
			ExpressionAttributeValues: upd.Values()}})
	if errors.Is(err, problem.ErrConflict) {
		return nil // registered again with another endpoint: nothing of this one is left
	}
	return wrap("remove installation", err)
}

// devicesOf reads the devices item's "dev:<installation id>" attributes.
func devicesOf(av map[string]types.AttributeValue) []profiles.Device {
	var out []profiles.Device
	for name, v := range av {
		id, ok := strings.CutPrefix(name, devicePfx)
		if !ok {
			continue
		}
		var d deviceValue
		if err := attributevalue.Unmarshal(v, &d); err != nil {
			continue
		}
		out = append(out, profiles.Device{InstallationID: id, Platform: d.Platform, EndpointARN: d.EndpointARN})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].InstallationID < out[j].InstallationID })
	return out
}
