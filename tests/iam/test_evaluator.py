"""The pieces the least-privilege proof rests on: the IAM evaluator (explicit deny over allow,
wildcards, NotAction/NotResource, conditions), the calls-to-requests mapping (transactions item by
item, indexes, batches, S3 objects, ARNs of the stack) and the template's policies as deployed
(SAM policy templates expanded, intrinsics resolved)."""

from __future__ import annotations

import pytest

from tests.support.iam.actions import Call, requests_of
from tests.support.iam.evaluator import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Request, evaluate
from tests.support.iam.stack import default_stack, statement

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/flowless-dev-flows"


def policy(*raw: dict) -> list:
    return [statement("Test", f"S{i}", "inline", r) for i, r in enumerate(raw)]


def test_explicit_deny_beats_allow_and_nothing_is_an_implicit_deny() -> None:
    rules = policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE},
                   {"Effect": "Deny", "Action": "dynamodb:DeleteItem", "Resource": "*"})
    assert evaluate(rules, Request("dynamodb:GetItem", TABLE)).outcome == ALLOW
    assert evaluate(rules, Request("dynamodb:DeleteItem", TABLE)).outcome == EXPLICIT_DENY
    assert evaluate(rules, Request("dynamodb:GetItem", TABLE + "-other")).outcome == IMPLICIT_DENY
    assert evaluate([], Request("dynamodb:GetItem", TABLE)).outcome == IMPLICIT_DENY


def test_wildcards_actions_ignore_case_resources_do_not() -> None:
    rules = policy({"Effect": "Allow", "Action": ["S3:get*", "s3:?utObject"], "Resource": "arn:aws:s3:::bucket/tenant-a/*"})
    assert evaluate(rules, Request("s3:GetObject", "arn:aws:s3:::bucket/tenant-a/x/y.txt")).allowed  # * spans "/"
    assert evaluate(rules, Request("s3:PutObject", "arn:aws:s3:::bucket/tenant-a/k")).allowed
    assert not evaluate(rules, Request("s3:GetObject", "arn:aws:s3:::bucket/Tenant-A/k")).allowed
    assert not evaluate(rules, Request("s3:DeleteObject", "arn:aws:s3:::bucket/tenant-a/k")).allowed


def test_not_action_and_not_resource() -> None:
    rules = policy({"Effect": "Allow", "NotAction": "dynamodb:Scan", "Resource": TABLE},
                   {"Effect": "Deny", "Action": "*", "NotResource": [TABLE, TABLE + "/index/*"]})
    assert evaluate(rules, Request("dynamodb:Query", TABLE)).allowed
    assert not evaluate(rules, Request("dynamodb:Scan", TABLE)).allowed
    assert evaluate(rules, Request("dynamodb:Query", TABLE + "-jobs")).outcome == EXPLICIT_DENY


def test_leading_keys_condition_confines_a_role_to_its_tenant() -> None:
    rules = policy({"Effect": "Allow", "Action": "dynamodb:*", "Resource": TABLE,
                    "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["acme", "acme#*"]}}})
    call = Call("dynamodb", "GetItem", {"TableName": "flowless-dev-flows", "Key": {"tenant": {"S": "acme"}, "sk": {"S": "F#1"}}}, None)
    (request,) = requests_of(call)
    assert request.keys == {"dynamodb:LeadingKeys": ("acme",)}
    assert evaluate(rules, request).allowed
    other = Call("dynamodb", "Query", {"TableName": "flowless-dev-flows", "KeyConditionExpression": "#0 = :0",
                                       "ExpressionAttributeNames": {"#0": "tenant"}, "ExpressionAttributeValues": {":0": {"S": "globex"}}}, None)
    (request,) = requests_of(other)
    assert request.keys == {"dynamodb:LeadingKeys": ("globex",)}
    assert not evaluate(rules, request).allowed


@pytest.mark.parametrize(("operator", "key", "wanted", "context", "holds"), [
    ("StringEquals", "aws:PrincipalTag/team", "a", {"aws:PrincipalTag/team": ("a",)}, True),
    ("StringNotEquals", "aws:PrincipalTag/team", "a", {"aws:PrincipalTag/team": ("b",)}, True),
    ("StringEquals", "aws:PrincipalTag/team", "a", {}, False),
    ("StringEqualsIfExists", "aws:PrincipalTag/team", "a", {}, True),
    ("Bool", "aws:SecureTransport", "false", {"aws:SecureTransport": ("false",)}, True),
    ("Null", "s3:prefix", "true", {}, True),
    ("ArnLike", "aws:SourceArn", "arn:aws:sqs:*:123456789012:flowless-*", {"aws:SourceArn": ("arn:aws:sqs:us-east-1:123456789012:flowless-dev",)}, True),
    ("ForAnyValue:StringLike", "dynamodb:LeadingKeys", "acme*", {"dynamodb:LeadingKeys": ("globex", "acme#1")}, True),
    ("ForAllValues:StringLike", "dynamodb:LeadingKeys", "acme*", {"dynamodb:LeadingKeys": ("globex", "acme#1")}, False),
    ("NumericLessThan", "s3:max-keys", "10", {"s3:max-keys": ("5",)}, True),
])
def test_condition_operators(operator, key, wanted, context, holds) -> None:
    rules = policy({"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {operator: {key: wanted}}})
    assert evaluate(rules, Request("s3:GetObject", "*", tuple(context.items()))).allowed is holds


def test_calls_become_the_requests_iam_authorises() -> None:
    transaction = Call("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "flowless-dev-messages", "Item": {"pk": {"S": "acme#f#s"}, "sk": {"S": "1"}}}},
        {"Update": {"TableName": "flowless-dev-sessions", "Key": {"tenant": {"S": "acme"}, "sk": {"S": "f#s"}}}},
        {"Delete": {"TableName": "flowless-dev-flows", "Key": {"tenant": {"S": "acme"}, "sk": {"S": "x"}}}},
        {"ConditionCheck": {"TableName": "flowless-dev-flows", "Key": {"tenant": {"S": "acme"}, "sk": {"S": "y"}}}}]}, None)
    assert [(r.action, r.resource.rsplit("/", 1)[1]) for r in requests_of(transaction)] == [
        ("dynamodb:PutItem", "flowless-dev-messages"), ("dynamodb:UpdateItem", "flowless-dev-sessions"),
        ("dynamodb:DeleteItem", "flowless-dev-flows"), ("dynamodb:ConditionCheckItem", "flowless-dev-flows")]
    (index_query,) = requests_of(Call("dynamodb", "Query", {"TableName": "flowless-dev-messages", "IndexName": "by_tenant",
                                                              "KeyConditionExpression": "#0 = :0", "ExpressionAttributeNames": {"#0": "tenant"},
                                                              "ExpressionAttributeValues": {":0": {"S": "acme"}}}, None))
    assert index_query.resource.endswith("table/flowless-dev-messages/index/by_tenant")
    assert index_query.keys == {"dynamodb:LeadingKeys": ("acme",)}  # the index's own partition key
    copy = requests_of(Call("s3", "CopyObject", {"Bucket": "b", "Key": "acme/new", "CopySource": {"Bucket": "b", "Key": "acme/old"}}, None))
    assert [(r.action, r.resource) for r in copy] == [("s3:GetObject", "arn:aws:s3:::b/acme/old"), ("s3:PutObject", "arn:aws:s3:::b/acme/new")]
    (head,) = requests_of(Call("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, None))
    (listing,) = requests_of(Call("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "acme/"}, None))
    assert (head.action, listing.action, listing.resource, listing.keys) == ("s3:GetObject", "s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ("acme/",)})
    (batch,) = requests_of(Call("sqs", "SendMessageBatch", {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/q", "Entries": []}, None))
    assert (batch.action, batch.resource) == ("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q")
    (decrypt,) = requests_of(Call("kms", "Decrypt", {"CiphertextBlob": b"x"}, {"KeyId": "arn:aws:kms:us-east-1:123456789012:key/k-1"}))
    assert (decrypt.action, decrypt.resource) == ("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/k-1")
    (invoke,) = requests_of(Call("lambda", "Invoke", {"FunctionName": "flowless-dev-webhook", "Qualifier": "live"}, None))
    assert (invoke.action, invoke.resource) == ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:123456789012:function:flowless-dev-webhook:live")
    (vectors,) = requests_of(Call("s3vectors", "QueryVectors", {"vectorBucketName": "v", "indexName": "acme-kb"}, None))
    assert vectors.resource == "arn:aws:s3vectors:us-east-1:123456789012:bucket/v/index/acme-kb"
    (stop,) = requests_of(Call("stepfunctions", "StopExecution", {"executionArn": "arn:aws:states:us-east-1:123456789012:execution:m:job-1"}, None))
    assert (stop.action, stop.resource) == ("states:StopExecution", "arn:aws:states:us-east-1:123456789012:execution:m:job-1")


def test_the_templates_policies_as_deployed() -> None:
    stack = default_stack()
    invoke = next(s for s in stack.policies["BuildJobStateMachine"] if s.label == "LambdaInvokePolicy")
    worker = stack.physical_name("BuildWorkerFunction")
    assert (invoke.origin, invoke.actions) == ("sam-template", ["lambda:InvokeFunction"])
    assert invoke.resources == [f"arn:aws:lambda:us-east-1:123456789012:function:{worker}*"]  # SAM's template: the function, its versions and aliases
    stop = next(s for s in stack.policies["BuildFunction"] if s.label == "BuildExecutionsStop")
    assert stop.resources == ["arn:aws:states:us-east-1:123456789012:execution:flowless-dev-build-job:*"]
    files = next(s for s in stack.policies["FilesFunction"] if s.label == "FilesReadWriteDelete")
    assert files.resources == ["arn:aws:s3:::flowless-dev-files-123456789012-us-east-1/*"]
    managed = {s.label for s in stack.policies["WebhookDeliveryFunction"] if not s.declared}
    assert managed == {"AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess", "AWSLambdaSQSQueueExecutionRole"}
    notes = next(s for s in stack.policies["BuildJobStateMachine"] if s.label == "ExecutionTraces").unexercised
    assert "*" in notes and "Step Functions" in notes["*"]
