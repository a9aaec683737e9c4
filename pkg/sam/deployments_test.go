package sam

import (
	"fmt"
	"testing"
)

// TestDeployments reads template.yaml: every function is published behind
// the alias live and has a DeploymentPreference, canary (ApiDeploymentConfig)
// for the API's functions and the authorizer, linear (ConsumerDeploymentConfig)
// for the rest, rolled back by its own errors alarm, which monitoring.yaml
// names as the preference does; the authorizer is called through its alias.
func TestDeployments(t *testing.T) {
	_, tmpl := repoTemplate(t)
	mon := monitoringTemplate(t)
	if got := tmpl.Globals["Function"].(map[string]any)["AutoPublishAlias"]; got != "live" {
		t.Errorf("Globals.Function.AutoPublishAlias = %v, want live", got)
	}
	for _, f := range tmpl.Functions() {
		dp := asMap(tmpl.Resources[f.LogicalID].Properties["DeploymentPreference"])
		want := "ConsumerDeploymentConfig"
		if len(f.Routes) > 0 || f.LogicalID == "AuthorizerFunction" {
			want = "ApiDeploymentConfig"
		}
		if got := refTarget(dp["Type"]); got != want {
			t.Errorf("%s: DeploymentPreference.Type %v, want !Ref %s", f.LogicalID, dp["Type"], want)
		}
		alarm := ErrorsAlarmName("${AWS::StackName}", f.LogicalID)
		if got := fmt.Sprint(dp["Alarms"]); got != fmt.Sprint([]any{map[string]any{"Fn::Sub": alarm}}) {
			t.Errorf("%s: DeploymentPreference.Alarms %s, want [!Sub %s]", f.LogicalID, got, alarm)
		}
		named := mon.Resources[f.LogicalID+"ErrorsAlarm"].Properties["AlarmName"]
		if fmt.Sprint(named) != fmt.Sprint(map[string]any{"Fn::Sub": ErrorsAlarmName("${ParentStackName}", f.LogicalID)}) {
			t.Errorf("%s: its errors alarm is named %v, not what its DeploymentPreference names", f.LogicalID, named)
		}
	}
	auth := asMap(asMap(asMap(tmpl.Resources["Api"].Properties["Auth"])["Authorizers"])["SubscriptionKey"])
	if got := fmt.Sprint(auth["FunctionArn"]); got != "map[Ref:AuthorizerFunction.Alias]" {
		t.Errorf("the authorizer is %s, want !Ref AuthorizerFunction.Alias", got)
	}
}
