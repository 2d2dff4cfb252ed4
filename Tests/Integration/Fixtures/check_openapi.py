"""Checks the admin API's OpenAPI document and real responses against it.

usage: check_openapi.py OPENAPI_YAML [RECORDED_JSON]

1. The document validates as OpenAPI 3.1 (openapi-spec-validator).
2. Every example validates against the schema next to it.
3. Each recorded response ({"operation", "status", "body"}) validates against the schema the
   document declares for that operation and status.
Prints one line per problem and exits 1 if there is any.
"""
import json
import sys

import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

document = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
validate(document)
problems = []


def deref(node):
    if isinstance(node, dict) and "$ref" in node:
        target = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return deref(target)
    return node


def check(schema, instance, where):
    validator = OAS31Validator({**deref(schema), "components": document.get("components", {})})
    for error in validator.iter_errors(instance):
        problems.append(f"{where}: {error.message}")


operations = {}
for path, item in document["paths"].items():
    for method, operation in item.items():
        operations[operation["operationId"]] = operation
        request = deref(operation.get("requestBody", {}))
        for media in request.get("content", {}).values():
            if "example" in media:
                check(media["schema"], media["example"], f"{method.upper()} {path} request example")
        for status, response in operation["responses"].items():
            response = deref(response)
            for media in response.get("content", {}).values():
                if "example" in media:
                    check(media["schema"], media["example"], f"{method.upper()} {path} {status} example")

if len(sys.argv) > 2:
    recorded = json.load(open(sys.argv[2], encoding="utf-8"))
    for entry in recorded:
        operation = operations[entry["operation"]]
        response = operation["responses"].get(str(entry["status"]))
        if response is None:
            problems.append(f"{entry['operation']}: status {entry['status']} is not in the document")
            continue
        schema = deref(response)["content"]["application/json"]["schema"]
        check(schema, entry["body"], f"{entry['operation']} {entry['status']} real response")
    print(f"checked {len(recorded)} real responses")

for problem in problems:
    print(problem)
sys.exit(1 if problems else 0)
