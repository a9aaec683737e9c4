package main

import (
	"testing"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// The Body's routes become a Resource per path segment and a Method per
// operation (the authorizer's unless the route has none), and the
// deployment waits for the methods.
func TestExplodeAPI(t *testing.T) {
	integration := map[string]any{"type": "aws_proxy", "httpMethod": "POST", "uri": "arn:fn"}
	doc := map[string]any{"Resources": map[string]any{
		"Api": map[string]any{"Type": "AWS::ApiGateway::RestApi", "Properties": map[string]any{"Body": map[string]any{"paths": map[string]any{
			"/api/v1/info": map[string]any{"get": map[string]any{"security": []any{map[string]any{"SubscriptionKey": []any{}}},
				"x-amazon-apigateway-integration": integration}},
			"/api/v1/validate-email": map[string]any{"get": map[string]any{"x-amazon-apigateway-integration": integration}},
		}}}},
		"ApiDeployment": map[string]any{"Type": "AWS::ApiGateway::Deployment", "Properties": map[string]any{"RestApiId": map[string]any{"Ref": "Api"}}},
	}}
	out, err := explodeAPI(&sam.Transformed{Doc: doc})
	if err != nil {
		t.Fatal(err)
	}
	res := out["Resources"].(map[string]any)
	if _, ok := res["Api"].(map[string]any)["Properties"].(map[string]any)["Body"]; ok {
		t.Fatal("the Body is still there")
	}
	paths, auth := map[string]bool{}, map[string]string{}
	for _, r := range res {
		rm := r.(map[string]any)
		p, _ := rm["Properties"].(map[string]any)
		switch rm["Type"] {
		case "AWS::ApiGateway::Resource":
			paths[p["PathPart"].(string)] = true
		case "AWS::ApiGateway::Method":
			auth[refTo(p["ResourceId"])] = p["AuthorizationType"].(string)
		}
	}
	if len(paths) != 4 || !paths["api"] || !paths["v1"] || !paths["info"] || !paths["validate-email"] {
		t.Fatalf("resources %v", paths)
	}
	if len(auth) != 2 {
		t.Fatalf("methods %v", auth)
	}
	for id, a := range auth {
		want := "CUSTOM"
		if res[id].(map[string]any)["Properties"].(map[string]any)["PathPart"] == "validate-email" {
			want = "NONE"
		}
		if a != want {
			t.Errorf("%s: %s, want %s", id, a, want)
		}
	}
	if deps, _ := res["ApiDeployment"].(map[string]any)["DependsOn"].([]string); len(deps) != 2 {
		t.Fatalf("the deployment depends on %v", deps)
	}
}
