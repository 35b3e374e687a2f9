"""template.yaml as IAM sees the deployed stack: resolved names and ARNs, and every principal's policy.

The stack is the template deployed with its default parameters in account 123456789012, us-east-1
(`flowless.local.invoke.ACCOUNT_ID`). `Stack.resolver` evaluates `!Ref`, `!GetAtt` and `!Sub` to
the names and ARNs CloudFormation would produce (generated names, for resources the template does
not name, are fixed stand-ins). `Stack.policies()` gives each principal's statements:

- a function's `Policies`: inline statements, SAM policy templates expanded from the
  `policy_templates.json` that aws-sam-translator ships (the same data `sam build` uses), and the
  managed policies SAM attaches by itself (AWSLambdaBasicExecutionRole, AWSXrayWriteOnlyAccess when
  Tracing is Active, AWSLambdaSQSQueueExecutionRole for an SQS event source), written from their
  published documents;
- a state machine's `Policies`, likewise.

A declared statement may carry, in template.yaml, a comment
`# unexercised <Action>[, <Action>...]: <the path that needs it>; <why no test reaches it>`
(or `# unexercised *: ...` for the whole statement): tests/iam/ then accepts that no recorded call
uses those actions of that statement.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from flowless.local.invoke import ACCOUNT_ID, Resolver, load_template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
REGION = "us-east-1"
PARTITION = "aws"
STACK = "flowless-local"

# Managed policies SAM adds to a function's role on its own (documents as AWS publishes them).
BASIC_EXECUTION = [{"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]
XRAY_WRITE_ONLY = [{"Effect": "Allow", "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules",
                                                    "xray:GetSamplingTargets", "xray:GetSamplingStatisticSummaries"], "Resource": "*"}]
SQS_QUEUE_EXECUTION = [{"Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes",
                                                        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]
MANAGED = {
    "AWSLambdaBasicExecutionRole": BASIC_EXECUTION,
    "AWSXrayWriteOnlyAccess": XRAY_WRITE_ONLY,
    "AWSLambdaSQSQueueExecutionRole": SQS_QUEUE_EXECUTION,
}
# The actions end at the first ": " (an action itself holds a colon without a space: dynamodb:Query).
UNEXERCISED = re.compile(r"#\s*unexercised\s+(.+?):\s+(.+)$")


def generated(logical_id: str) -> str:
    """A stand-in for the name CloudFormation generates (stack-logicalid-suffix)."""
    suffix = uuid.uuid5(uuid.NAMESPACE_URL, logical_id).hex[:12].upper()
    return f"{STACK}-{logical_id}-{suffix}"


class StackResolver(Resolver):
    """`flowless.local.invoke.Resolver` with the ARNs, URLs and generated names of every resource type
    the template uses (invoke's own resolver only needs table names)."""

    def __init__(self, template: dict[str, Any], *, parameters: dict[str, str] | None = None) -> None:
        super().__init__(template, parameters=parameters, region=REGION)
        self.pseudo["AWS::StackName"] = STACK

    def resource(self, name: str) -> dict[str, Any]:
        return (self.template.get("Resources") or {}).get(name) or {}

    def physical_name(self, name: str) -> str:
        """The resource's name as its API calls carry it (table, bucket, queue, key id, function, ...)."""
        resource = self.resource(name)
        kind, props = resource.get("Type", ""), resource.get("Properties") or {}
        named = {
            "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName", "AWS::SQS::Queue": "QueueName",
            "AWS::Serverless::Function": "FunctionName", "AWS::Lambda::Function": "FunctionName", "AWS::Serverless::StateMachine": "Name",
            "AWS::S3Vectors::VectorBucket": "VectorBucketName", "AWS::Logs::LogGroup": "LogGroupName",
        }.get(kind)
        if named and named in props:
            return str(self.resolve(props[named]))
        if kind == "AWS::KMS::Key":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{STACK}/{name}"))
        if kind == "AWS::S3::Bucket":
            return generated(name).lower()
        return generated(name)

    def ref(self, name: str) -> Any:
        if name in self.pseudo or name in self.parameters:
            return super().ref(name)
        kind = self.resource(name).get("Type", "")
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{self.region}.amazonaws.com/{ACCOUNT_ID}/{self.physical_name(name)}"
        if kind in {"AWS::Serverless::StateMachine", "AWS::S3Vectors::VectorBucket"}:
            return self.arn(name)
        if kind in {"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Serverless::Function", "AWS::Lambda::Function",
                    "AWS::Logs::LogGroup"}:
            return self.physical_name(name)
        return super().ref(name)

    def arn(self, name: str) -> str:
        kind, physical = self.resource(name).get("Type", ""), self.physical_name(name)
        region, account = self.region, ACCOUNT_ID
        return {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{account}:table/{physical}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{account}:{physical}",
            "AWS::KMS::Key": f"arn:aws:kms:{region}:{account}:key/{physical}",
            "AWS::Serverless::Function": f"arn:aws:lambda:{region}:{account}:function:{physical}",
            "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{account}:function:{physical}",
            "AWS::Serverless::StateMachine": f"arn:aws:states:{region}:{account}:stateMachine:{physical}",
            "AWS::S3Vectors::VectorBucket": f"arn:aws:s3vectors:{region}:{account}:bucket/{physical}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{region}:{account}:log-group:{physical}:*",
        }.get(kind, f"arn:aws:cloudformation:{region}:{account}:resource/{name}")

    def get_att(self, name: str, attribute: str) -> str:
        kind = self.resource(name).get("Type", "")
        if attribute in {"Arn", "VectorBucketArn"}:
            return self.arn(name)
        if attribute in {"Name", "QueueName"}:
            return self.physical_name(name)
        if kind == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.ref(name)
        return super().get_att(name, attribute)


@dataclass
class Statement:
    principal: str  # logical id of the function / state machine
    label: str  # Sid, or the policy template / managed policy name
    origin: str  # "inline", "sam-template", "managed"
    effect: str
    actions: list[str]
    not_actions: list[str]
    resources: list[str]
    not_resources: list[str]
    conditions: dict[str, dict[str, Any]]
    # Actions the template says no test reaches ("*" = the whole statement), with its reason.
    unexercised: dict[str, str] = field(default_factory=dict)

    @property
    def declared(self) -> bool:
        return self.origin != "managed"

    def __str__(self) -> str:
        return f"{self.principal} {self.origin} statement {self.label!r}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statement(principal: str, label: str, origin: str, raw: dict[str, Any], unexercised: dict[str, str] | None = None) -> Statement:
    return Statement(
        principal=principal, label=label, origin=origin, effect=raw.get("Effect", "Allow"),
        actions=[str(a) for a in _as_list(raw.get("Action"))], not_actions=[str(a) for a in _as_list(raw.get("NotAction"))],
        resources=[str(r) for r in _as_list(raw.get("Resource"))], not_resources=[str(r) for r in _as_list(raw.get("NotResource"))],
        conditions=dict(raw.get("Condition") or {}), unexercised=dict(unexercised or {}),
    )


@cache
def sam_policy_templates() -> dict[str, Any]:
    import samtranslator

    path = Path(samtranslator.__file__).parent / "policy_templates_data" / "policy_templates.json"
    return json.loads(path.read_text(encoding="utf-8"))["Templates"]


def expand_policy_template(name: str, parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """A SAM policy template's statements with its `Ref`s to template parameters substituted (the
    stack's own intrinsics stay for the resolver)."""
    template = sam_policy_templates()[name]
    declared = template.get("Parameters") or {}
    missing = set(declared) - set(parameters)
    if missing:
        raise ValueError(f"policy template {name} needs {sorted(missing)}")

    def substitute(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in declared:
                return parameters[value["Ref"]]
            return {k: substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [substitute(v) for v in value]
        return value

    return substitute(template["Definition"])["Statement"]


class Stack:
    def __init__(self, template_path: Path = TEMPLATE) -> None:
        self.path = Path(template_path)
        self.text = self.path.read_text(encoding="utf-8")
        self.template = load_template(self.path)
        self.resolver = StackResolver(self.template)

    @property
    def resources(self) -> dict[str, Any]:
        return self.template.get("Resources") or {}

    def of_type(self, kind: str) -> list[str]:
        return [name for name, r in self.resources.items() if r.get("Type") == kind]

    @cached_property
    def functions(self) -> list[str]:
        return self.of_type("AWS::Serverless::Function")

    @cached_property
    def state_machines(self) -> list[str]:
        return self.of_type("AWS::Serverless::StateMachine")

    @cached_property
    def principals(self) -> list[str]:
        return self.functions + self.state_machines

    def physical_name(self, logical_id: str) -> str:
        return self.resolver.physical_name(logical_id)

    def arn(self, logical_id: str) -> str:
        return self.resolver.arn(logical_id)

    # --- the tables' keys (for dynamodb:LeadingKeys) ---------------------------------------------

    @cached_property
    def key_schemas(self) -> dict[str, dict[str | None, str]]:
        """Physical table name -> {None: hash key of the table, index name: hash key of the index}."""
        schemas: dict[str, dict[str | None, str]] = {}
        for name in self.of_type("AWS::DynamoDB::Table"):
            props = self.resources[name]["Properties"]
            keys: dict[str | None, str] = {None: next(k["AttributeName"] for k in props["KeySchema"] if k["KeyType"] == "HASH")}
            for index in props.get("GlobalSecondaryIndexes") or []:
                keys[index["IndexName"]] = next(k["AttributeName"] for k in index["KeySchema"] if k["KeyType"] == "HASH")
            schemas[self.physical_name(name)] = keys
        return schemas

    # --- policies --------------------------------------------------------------------------------

    @cached_property
    def policies(self) -> dict[str, list[Statement]]:
        return {principal: self._statements(principal) for principal in self.principals}

    def _statements(self, principal: str) -> list[Statement]:
        resource = self.resources[principal]
        props = resource.get("Properties") or {}
        resolve = self.resolver.resolve
        found: list[Statement] = []
        for number, policy in enumerate(_as_list(props.get("Policies"))):
            if isinstance(policy, str):
                managed = policy.rsplit("/", 1)[-1]
                if managed not in MANAGED:
                    raise ValueError(f"{principal}: managed policy {policy} has no document in tests/support/iam/stack.py MANAGED")
                found += [statement(principal, managed, "managed", s) for s in MANAGED[managed]]
            elif "Statement" in policy:
                for index, raw in enumerate(_as_list(policy["Statement"])):
                    label = raw.get("Sid") or f"Policies[{number}].Statement[{index}]"
                    found.append(statement(principal, label, "inline", resolve(raw), self.unexercised_notes(principal, raw.get("Sid"))))
            else:
                ((name, parameters),) = policy.items()
                for raw in expand_policy_template(name, parameters or {}):
                    found.append(statement(principal, name, "sam-template", resolve(raw), self.unexercised_notes(principal, name)))
        if resource["Type"] == "AWS::Serverless::Function":
            implicit = ["AWSLambdaBasicExecutionRole"]
            globals_ = (self.template.get("Globals") or {}).get("Function") or {}
            if props.get("Tracing", globals_.get("Tracing")) == "Active":
                implicit.append("AWSXrayWriteOnlyAccess")
            if any(e.get("Type") == "SQS" for e in (props.get("Events") or {}).values()):
                implicit.append("AWSLambdaSQSQueueExecutionRole")
            for managed in implicit:
                found += [statement(principal, managed, "managed", s) for s in MANAGED[managed]]
        return found

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    @cached_property
    def resource_lines(self) -> dict[str, int]:
        """Logical id -> the line of template.yaml that opens it."""
        found = {}
        for i, line in enumerate(self.lines):
            match = re.match(r"^  ([A-Za-z0-9]+):\s*$", line)
            if match:
                found.setdefault(match.group(1), i)
        return found

    def statement_span(self, principal: str, label: str) -> tuple[int, int] | None:
        """Lines [start, end) of template.yaml holding the statement `label` (a Sid, or a policy
        template's name) of `principal`."""
        lines = self.lines
        starts = self.resource_lines
        if principal not in starts:
            return None
        start = starts[principal]
        end = min((i for i in starts.values() if i > start), default=len(lines))
        wanted = re.compile(rf"(Sid:\s*{re.escape(label)}\b|-\s*{re.escape(label)}:)")
        head = next((i for i in range(start, end) if wanted.search(lines[i])), None)
        if head is None:
            return None
        indent = len(lines[head]) - len(lines[head].lstrip(" -"))
        for i in range(head + 1, end):
            line = lines[i]
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            if len(line) - len(line.lstrip(" -")) <= indent and (stripped.startswith("- ") or len(line) - len(stripped) < indent):
                end = i
                break
        while end > head + 1 and (not lines[end - 1].strip() or len(lines[end - 1]) - len(lines[end - 1].lstrip()) < indent):
            end -= 1  # blank lines and the next resource's comments
        return head, end

    def unexercised_notes(self, principal: str, label: str | None) -> dict[str, str]:
        """`# unexercised ...` comments inside the statement `label` of `principal`."""
        span = self.statement_span(principal, label) if label else None
        if span is None:
            return {}
        notes: dict[str, str] = {}
        for line in self.lines[span[0]:span[1]]:
            match = UNEXERCISED.search(line)
            if match:
                for action in match.group(1).split(","):
                    notes[action.strip()] = match.group(2).strip()
        return notes

    def without_statement(self, principal: str, label: str) -> str:
        """template.yaml's text with that statement deleted."""
        span = self.statement_span(principal, label)
        if span is None:
            raise LookupError(f"no statement {label!r} in {principal}")
        lines = self.text.splitlines(keepends=True)
        return "".join(lines[:span[0]] + lines[span[1]:])


@cache
def default_stack() -> Stack:
    return Stack()
