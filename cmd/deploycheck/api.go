package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/digital-citizenship/functions/pkg/sam"
)

// explodeAPI returns a copy of the transformed template in which each REST
// API's OpenAPI Body (where SAM puts the routes) is spelled out as
// AWS::ApiGateway::Resource and AWS::ApiGateway::Method resources, as API
// Gateway's import does: moto's CloudFormation ignores a Body, and then
// refuses the deployment of an API without methods. The deployment waits
// for the methods. The authorizer and the gateway responses stay in the
// Body (moto's CloudFormation creates neither type): they are checked there.
func explodeAPI(t *sam.Transformed) (map[string]any, error) {
	raw, err := json.Marshal(t.Doc)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	resources := doc["Resources"].(map[string]any)
	for _, api := range t.OfType("AWS::ApiGateway::RestApi") {
		props := resources[api].(map[string]any)["Properties"].(map[string]any)
		body, _ := props["Body"].(map[string]any)
		if body == nil {
			continue
		}
		delete(props, "Body")
		methods, err := spellOut(api, body, resources)
		if err != nil {
			return nil, err
		}
		for _, id := range t.OfType("AWS::ApiGateway::Deployment") {
			d := resources[id].(map[string]any)
			if p, _ := d["Properties"].(map[string]any); p != nil && refTo(p["RestApiId"]) == api {
				d["DependsOn"] = methods
			}
		}
	}
	return doc, nil
}

// spellOut adds a Resource per path segment and a Method per operation of
// body's paths to resources, and returns the methods' logical ids.
func spellOut(api string, body map[string]any, resources map[string]any) ([]string, error) {
	paths, _ := body["paths"].(map[string]any)
	ids := map[string]string{} // path -> logical id of its resource
	var resource func(path string) any
	resource = func(path string) any {
		if path == "" {
			return map[string]any{"Fn::GetAtt": []any{api, "RootResourceId"}}
		}
		if id, ok := ids[path]; ok {
			return map[string]any{"Ref": id}
		}
		parent, part := path[:strings.LastIndex(path, "/")], path[strings.LastIndex(path, "/")+1:]
		id := fmt.Sprintf("%sResource%d", api, len(ids))
		ids[path] = id
		resources[id] = map[string]any{"Type": "AWS::ApiGateway::Resource", "Properties": map[string]any{
			"RestApiId": map[string]any{"Ref": api}, "ParentId": resource(parent), "PathPart": part}}
		return map[string]any{"Ref": id}
	}
	var methods []string
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		ops, _ := paths[path].(map[string]any)
		for _, verb := range slices.Sorted(maps.Keys(ops)) {
			op, _ := ops[verb].(map[string]any)
			integ, _ := op["x-amazon-apigateway-integration"].(map[string]any)
			if integ == nil {
				return nil, fmt.Errorf("%s %s has no API Gateway integration", strings.ToUpper(verb), path)
			}
			auth := "NONE"
			if authorized(op) {
				auth = "CUSTOM"
			}
			id := fmt.Sprintf("%sMethod%d", api, len(methods))
			methods = append(methods, id)
			resources[id] = map[string]any{"Type": "AWS::ApiGateway::Method", "Properties": map[string]any{
				"RestApiId": map[string]any{"Ref": api}, "ResourceId": resource(strings.TrimSuffix(path, "/")),
				"HttpMethod": strings.ToUpper(verb), "AuthorizationType": auth,
				"Integration": map[string]any{"Type": strings.ToUpper(fmt.Sprint(integ["type"])),
					"IntegrationHttpMethod": orDefault(integ["httpMethod"], "POST"), "Uri": orDefault(integ["uri"], "")}}}
		}
	}
	return methods, nil
}

// authorized tells an operation that goes through the custom authorizer:
// every security requirement SAM writes names it, except for routes with
// Authorizer: NONE (and the CORS preflights, which have none).
func authorized(op map[string]any) bool {
	sec, _ := op["security"].([]any)
	for _, s := range sec {
		if _, ok := s.(map[string]any)[authorizerName]; ok {
			return true
		}
	}
	return false
}

// authorizerName is the template's authorizer, as SAM names it in the Body.
const authorizerName = "SubscriptionKey"

func orDefault(v any, def any) any {
	if v == nil {
		return def
	}
	return v
}

// refTo returns the logical id v refers to ({"Ref": id} or {"Fn::GetAtt":
// [id, ...]}), "" for anything else.
func refTo(v any) string {
	m, _ := v.(map[string]any)
	if id, ok := m["Ref"].(string); ok {
		return id
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		return fmt.Sprint(ga[0])
	}
	return ""
}
