# Transforms template.yaml as `sam deploy` has CloudFormation do it, with
# aws-sam-translator (the library behind SAM): argv[1] is the template,
# argv[2] a JSON object of function logical id -> CodeUri (s3://bucket/key,
# as `sam package` writes them). Prints the CloudFormation template as JSON.
import json
import logging
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
json.dump(transform(template, {}, NoManagedPolicies()), sys.stdout, sort_keys=True)
