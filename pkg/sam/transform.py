# Transforms template.yaml as `sam deploy` has CloudFormation do it, with
# aws-sam-translator (the library behind SAM): argv[1] is the template,
# argv[2] a JSON object of function logical id -> CodeUri (s3://bucket/key,
# as `sam package` writes them). Prints, as JSON, the CloudFormation template
# and the nested stacks whose TemplateURL is a file next to it (what `sam
# package` uploads), parsed: {"template": ..., "nested": {logical id: ...}}.
import json
import logging
import os
import sys

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

logging.getLogger("samtranslator").setLevel(logging.CRITICAL)


class NoManagedPolicies:
    """The template names no managed policy by name: none to look up in IAM."""

    def load(self):
        return {}


template = yaml_parse(open(sys.argv[1]).read())
code = json.loads(sys.argv[2]) or {}
for logical_id, resource in template["Resources"].items():
    if resource["Type"] == "AWS::Serverless::Function":
        resource["Properties"]["CodeUri"] = code.get(logical_id, "s3://placeholder/placeholder.zip")
out = transform(template, {}, NoManagedPolicies())
nested = {}
for logical_id, resource in out["Resources"].items():
    url = resource.get("Properties", {}).get("TemplateURL")
    if resource["Type"] == "AWS::CloudFormation::Stack" and isinstance(url, str) and "://" not in url:
        nested[logical_id] = yaml_parse(open(os.path.join(os.path.dirname(sys.argv[1]), url)).read())
json.dump({"template": out, "nested": nested}, sys.stdout, sort_keys=True)
