package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// The alias every function is published behind (Globals: AutoPublishAlias),
// and the deployment configurations of the two kinds of function.
const (
	aliasName          = "live"
	apiDeployment      = "ApiDeploymentConfig"
	consumerDeployment = "ConsumerDeploymentConfig"
	// codeDeployRole is the role SAM adds for CodeDeploy.
	codeDeployRole = "CodeDeployServiceRole"
)

// aliasesOf maps each alias of the transformed template (the
// AWS::Lambda::Alias AutoPublishAlias makes) to its function.
func aliasesOf(t *sam.Transformed) map[string]string {
	out := map[string]string{}
	for _, id := range t.OfType("AWS::Lambda::Alias") {
		out[id] = refTo(props(t.Resources()[id])["FunctionName"])
	}
	return out
}

// withoutAliases adapts the copy of the template given to moto, whose
// CloudFormation has no AWS::Lambda::Alias (a Ref to one resolves to
// nothing, and the mappings, permissions, routes and schedules that call it
// then fail to create): the aliases are left out and every reference to one
// becomes its function's ARN (a Ref to an alias is its ARN). The transformed
// template keeps them, and checkDeployments checks them there.
func withoutAliases(doc map[string]any, aliases map[string]string) {
	resources := doc["Resources"].(map[string]any)
	for id := range aliases {
		delete(resources, id)
	}
	sub := func(s string) string {
		for a, fn := range aliases {
			s = strings.ReplaceAll(s, "${"+a+"}", "${"+fn+".Arn}")
		}
		return s
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["Ref"].(string); ok && len(x) == 1 && aliases[ref] != "" {
				return map[string]any{"Fn::GetAtt": []any{aliases[ref], "Arn"}}
			}
			switch s := x["Fn::Sub"].(type) {
			case string:
				x["Fn::Sub"] = sub(s)
			case []any:
				if len(s) > 0 {
					if str, ok := s[0].(string); ok {
						s[0] = sub(str)
					}
				}
			}
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	for id, res := range resources {
		r := res.(map[string]any)
		if deps, ok := r["DependsOn"].([]any); ok {
			r["DependsOn"] = slices.DeleteFunc(deps, func(d any) bool { return aliases[fmt.Sprint(d)] != "" })
		}
		resources[id] = walk(r)
	}
}

// functionOf is the function a reference names: itself, or an alias's.
func (r *rehearsal) functionOf(id string) string {
	if fn := r.aliases[id]; fn != "" {
		return fn
	}
	return id
}

// checkDeployments checks that every function is deployed as a version
// behind its alias, shifted by CodeDeploy and rolled back by its own errors
// alarm (canary for the API's functions and the authorizer, linear for the
// rest), and that whatever calls a function calls its alias: event source
// mappings, permissions, schedules, routes and the authorizer. moto's
// CloudFormation creates the versions (checked there) but neither aliases
// nor CodeDeploy (checked in the transformed template).
func (r *rehearsal) checkDeployments(ctx context.Context, c *checker) error {
	res, all := r.transformed.Resources(), r.resources()
	alias := map[string]string{} // function -> its alias
	for a, fn := range r.aliases {
		alias[fn] = a
	}
	versions := map[string]string{} // function -> its version resource
	for _, id := range r.transformed.OfType("AWS::Lambda::Version") {
		versions[refTo(props(res[id])["FunctionName"])] = id
	}
	kinds := map[string]int{}
	for _, f := range r.tmpl.Functions() {
		id, a := f.LogicalID, alias[f.LogicalID]
		if a == "" {
			c.failf("%s has no alias (AutoPublishAlias)", id)
			continue
		}
		ap := props(res[a])
		c.equal(a+" name", ap["Name"], aliasName)
		c.equal(a+" version", refTo(ap["FunctionVersion"]), versions[id])
		upd, _ := res[a]["UpdatePolicy"].(map[string]any)["CodeDeployLambdaAliasUpdate"].(map[string]any)
		group := id + "DeploymentGroup"
		c.equal(a+" shifted by CodeDeploy", refTo(upd["DeploymentGroupName"]), group)
		c.equal(a+" CodeDeploy application", r.typeOf(refTo(upd["ApplicationName"])), "AWS::CodeDeploy::Application")
		gp := props(res[group])
		want := consumerDeployment
		if len(f.Routes) > 0 || id == "AuthorizerFunction" {
			want = apiDeployment
		}
		kinds[want]++
		// The transform resolves a parameter it knows the value of (in
		// CloudFormation, the stack's; here, its default).
		config := refTo(gp["DeploymentConfigName"])
		if s, ok := gp["DeploymentConfigName"].(string); ok && s == r.params[want] {
			config = want
		}
		c.equal(group+" configuration", config, want)
		c.equal(group+" service role", refTo(gp["ServiceRoleArn"]), codeDeployRole)
		// The alarm is the nested stack's (monitoring.yaml), named from the
		// main stack's name, which the main stack gives it.
		ac, _ := gp["AlarmConfiguration"].(map[string]any)
		c.equal(group+" rolled back by "+id+"ErrorsAlarm", fmt.Sprint(ac["Enabled"], " ", ac["Alarms"]),
			fmt.Sprintf("true [map[Name:map[Fn::Sub:%s]]]", sam.ErrorsAlarmName("${AWS::StackName}", id)))
		named := props(all[id+"ErrorsAlarm"])["AlarmName"]
		c.equal(id+"ErrorsAlarm name", fmt.Sprint(named), fmt.Sprintf("map[Fn::Sub:%s]", sam.ErrorsAlarmName("${ParentStackName}", id)))
		c.equal(id+"ErrorsAlarm's stack is given the main stack's name", refTo(props(res[r.nestedOf[id+"ErrorsAlarm"]])["Parameters"].(map[string]any)["ParentStackName"]), "AWS::StackName")
		rb, _ := gp["AutoRollbackConfiguration"].(map[string]any)
		c.equal(group+" rolls back on an alarm", rb["Enabled"] == true && slices.Contains(list(rb["Events"]), "DEPLOYMENT_STOP_ON_ALARM"), true)
		c.equal(group+" style", fmt.Sprint(gp["DeploymentStyle"]), "map[DeploymentOption:WITH_TRAFFIC_CONTROL DeploymentType:BLUE_GREEN]")
		// As plain HTTP: moto answers a Number parameter in an environment
		// as a JSON number, which the SDK's strict decoder refuses.
		body, err := r.raw(ctx, "lambda", "GET", "/2015-03-31/functions/"+url.PathEscape(r.physical[id])+"/versions", nil)
		var out struct{ Versions []struct{ Version string } }
		if err == nil {
			err = json.Unmarshal(body, &out)
		}
		if err != nil {
			return fmt.Errorf("versions of %s: %w", id, err)
		}
		published := slices.ContainsFunc(out.Versions, func(v struct{ Version string }) bool { return v.Version != "$LATEST" })
		c.equal(id+" has a published version (moto)", published, true)
	}
	// Whatever calls a function calls its alias.
	callers := map[string]any{}
	for _, id := range r.transformed.OfType("AWS::Lambda::EventSourceMapping") {
		callers[id+" function"] = props(res[id])["FunctionName"]
	}
	for _, id := range r.transformed.OfType("AWS::Lambda::Permission") {
		callers[id+" function"] = props(res[id])["FunctionName"]
	}
	for _, id := range r.transformed.OfType("AWS::Events::Rule") {
		for n, t := range anyList(props(res[id])["Targets"]) {
			callers[fmt.Sprintf("%s target %d", id, n)] = t.(map[string]any)["Arn"]
		}
	}
	for _, what := range slices.Sorted(maps.Keys(callers)) {
		c.equal(what+" is an alias", r.aliases[refTo(callers[what])] != "", true)
	}
	for _, api := range r.transformed.OfType("AWS::ApiGateway::RestApi") {
		body, _ := props(res[api])["Body"].(map[string]any)
		paths, _ := body["paths"].(map[string]any)
		for _, path := range slices.Sorted(maps.Keys(paths)) {
			for verb, op := range paths[path].(map[string]any) {
				integ, _ := op.(map[string]any)["x-amazon-apigateway-integration"].(map[string]any)
				if integ == nil || integ["type"] != "aws_proxy" {
					continue
				}
				c.equal(strings.ToUpper(verb)+" "+path+" invokes an alias", r.namesAlias(integ["uri"]), true)
			}
		}
		sec, _ := body["securityDefinitions"].(map[string]any)
		authorizer, _ := sec[authorizerName].(map[string]any)["x-amazon-apigateway-authorizer"].(map[string]any)
		c.equal("the authorizer invokes its alias", r.namesAlias(authorizer["authorizerUri"]), true)
	}
	r.deployments = fmt.Sprintf("%d functions behind the alias %q, each rolled back by its errors alarm: %d by %s, %d by %s",
		len(alias), aliasName, kinds[apiDeployment], apiDeployment, kinds[consumerDeployment], consumerDeployment)
	return nil
}

// namesAlias reports whether a URI (a Fn::Sub) names one of the aliases,
// in its string or as one of its variables.
func (r *rehearsal) namesAlias(uri any) bool {
	s := fmt.Sprint(uri)
	for a := range r.aliases {
		if strings.Contains(s, "${"+a+"}") || slices.Contains(refsIn(uri), a) {
			return true
		}
	}
	return false
}
