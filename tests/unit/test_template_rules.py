"""The template's hygiene rules, asserted on template.yaml as written and as SAM's transform expands
it: what triggers processing, how queues report failures, what the bucket refuses, what IAM
allows, and what every function gets to be operated (timeout, memory, a log group with a
retention, alarms on errors and throttles)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from samtranslator.translator.transform import transform

from devstack.cfn_yaml import read_template
from devstack.intrinsics import Resolver, logical_id_of
from devstack.template import LocalTemplate
from medialib.domain.media import original_key, variant_key
from medialib.settings import Settings

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
LAMBDA_TIMEOUT_LIMIT = 900  # seconds
API_GATEWAY_TIMEOUT = 29  # seconds, REST API integration default
STALLED_AFTER = 15 * 60  # seconds an item may stay in processing before it is stalled


class _NoManagedPolicies:
    @staticmethod
    def load() -> dict:
        return {}


@cache
def _raw() -> dict[str, Any]:
    return read_template(TEMPLATE)


@cache
def _translated() -> dict[str, Any]:
    """What CloudFormation receives after `sam package`: code locations as S3 URIs, SAM expanded."""
    packaged = copy.deepcopy(_raw())
    for name, resource in packaged["Resources"].items():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if key in properties:
                properties[key] = f"s3://artifacts/{name}.zip"
    return transform(packaged, {}, _NoManagedPolicies())


@pytest.fixture(autouse=True)
def _region(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the transform builds ARNs with it


def _resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("Properties", {})


def _function_properties(logical_id: str) -> dict[str, Any]:
    """A function's properties with the Globals it inherits."""
    globals_ = _raw().get("Globals", {}).get("Function", {})
    return {**globals_, **_properties(_raw()["Resources"][logical_id])}


def _function_ids() -> list[str]:
    return sorted(_resources(_raw(), "AWS::Serverless::Function"))


def _resolved(value: Any) -> Any:
    """``value`` as CloudFormation would resolve it for stack ``medialib`` with default parameters."""
    return Resolver(_raw()).resolve(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _sqs_events(logical_id: str) -> dict[str, dict[str, Any]]:
    return {
        name: _properties(event)
        for name, event in _function_properties(logical_id).get("Events", {}).items()
        if event["Type"] == "SQS"
    }


def _alarms() -> dict[str, dict[str, Any]]:
    return {
        logical_id: _properties(resource)
        for logical_id, resource in _resources(_raw(), "AWS::CloudWatch::Alarm").items()
    }


def _alarms_on(namespace: str, metric: str, dimension: str, value: Any) -> list[dict[str, Any]]:
    return [
        alarm
        for alarm in _alarms().values()
        if alarm.get("Namespace") == namespace
        and alarm.get("MetricName") == metric
        and {"Name": dimension, "Value": value} in alarm.get("Dimensions", [])
    ]


# ---------------------------------------------------------------- storage and queues
def test_only_originals_trigger_processing_so_the_processor_never_triggers_itself():
    (bucket,) = _resources(_raw(), "AWS::S3::Bucket").values()
    notifications = _properties(bucket)["NotificationConfiguration"]
    configurations = [
        configuration
        for kind in ("QueueConfigurations", "LambdaConfigurations", "TopicConfigurations")
        for configuration in notifications.get(kind, [])
    ]
    assert configurations, "the bucket notifies nothing: uploads would never be processed"
    assert not notifications.get("EventBridgeConfiguration"), "EventBridge would see every write"
    for configuration in configurations:
        rules = configuration["Filter"]["S3Key"]["Rules"]
        prefixes = [rule["Value"] for rule in rules if rule["Name"].lower() == "prefix"]
        assert prefixes == ["originals/"], configuration

    assert original_key("t", "m").startswith("originals/")
    assert not variant_key("t", "m", "abc", "1200").startswith("originals/")


def test_every_sqs_event_source_reports_partial_batch_failures():
    sources = {
        (function_id, name): event
        for function_id in _function_ids()
        for name, event in _sqs_events(function_id).items()
    }
    assert len(sources) >= 2  # the process queue and its dead-letter queue
    for source, event in sources.items():
        assert "ReportBatchItemFailures" in event.get("FunctionResponseTypes", []), source

    mappings = _resources(_translated(), "AWS::Lambda::EventSourceMapping").values()
    assert len(mappings) == len(sources)
    assert all(
        "ReportBatchItemFailures" in _properties(mapping)["FunctionResponseTypes"] for mapping in mappings
    )


def test_a_queue_hides_a_message_for_at_least_six_times_its_consumer_timeout():
    """AWS's advice for SQS event sources: a shorter visibility makes retries overlap the first run."""
    queues = _resources(_raw(), "AWS::SQS::Queue")
    for function_id in _function_ids():
        timeout = int(_resolved(_function_properties(function_id)["Timeout"]))
        for name, event in _sqs_events(function_id).items():
            queue = _properties(queues[logical_id_of(event["Queue"])])
            assert int(queue["VisibilityTimeout"]) >= 6 * timeout, (function_id, name)


def test_the_bucket_blocks_public_access_and_aborts_incomplete_multipart_uploads():
    (bucket,) = _resources(_raw(), "AWS::S3::Bucket").values()
    properties = _properties(bucket)

    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    aborts = [
        rule
        for rule in properties["LifecycleConfiguration"]["Rules"]
        if rule["Status"] == "Enabled" and "AbortIncompleteMultipartUpload" in rule
    ]
    assert aborts, "parts of abandoned multipart uploads would be billed forever"
    # The rule covers the whole bucket: no prefix, tag or size filter narrows it.
    assert any(not rule.get("Prefix") and not rule.get("Filter") for rule in aborts)
    assert all(int(rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]) >= 1 for rule in aborts)


# ---------------------------------------------------------------- IAM
def _policy_statements(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every statement of every policy document in the expanded template (roles, bucket and queue
    policies, managed policies), with the logical id that holds it."""
    found = []

    def walk(owner: str, value: Any) -> None:
        if isinstance(value, dict):
            if "Statement" in value and isinstance(value["Statement"], list | dict):
                found.extend((owner, statement) for statement in _listed(value["Statement"]))
            for item in value.values():
                walk(owner, item)
        elif isinstance(value, list):
            for item in value:
                walk(owner, item)

    for logical_id, resource in template["Resources"].items():
        walk(logical_id, _properties(resource))
    return found


def test_no_policy_allows_a_wildcard_action():
    statements = _policy_statements(_translated())
    assert any(owner.endswith("Role") for owner, _ in statements)
    wildcards = [
        (owner, action)
        for owner, statement in statements
        if statement.get("Effect") == "Allow"
        for action in _listed(statement.get("Action", []))
        if isinstance(action, str) and (action == "*" or action.endswith(":*"))
    ]
    not_actions = [owner for owner, statement in statements if "NotAction" in statement]
    assert wildcards == []
    assert not_actions == []  # an Allow with NotAction grants everything else


def test_roles_attach_only_the_managed_policies_for_logs_traces_and_their_queues():
    """Managed policies are AWS's, with the actions each needs; none is attached by hand."""
    for function_id in _function_ids():
        role = _properties(_translated()["Resources"][f"{function_id}Role"])
        expected = {
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess",
        }
        if _sqs_events(function_id):
            expected.add("arn:aws:iam::aws:policy/service-role/AWSLambdaSQSQueueExecutionRole")
        assert set(role.get("ManagedPolicyArns", [])) == expected, function_id


# ---------------------------------------------------------------- functions
def _layers_of(function: dict[str, Any]) -> list[str]:
    """The logical ids of a deployed function's layers (SAM suffixes a layer's with a hash)."""
    return [logical_id_of(layer) for layer in _properties(function).get("Layers", [])]


def test_only_the_functions_that_process_files_get_the_media_tools_and_room_for_a_video():
    """ffmpeg, libheif and pdfium (layers/media_tools) reach only processing, which the sweeper
    also runs when it re-drives a stalled item; every function keeps the deps and shared layers."""
    functions = _resources(_translated(), "AWS::Lambda::Function")
    with_tools = sorted(
        logical_id
        for logical_id, function in functions.items()
        if any(layer.startswith("MediaToolsLayer") for layer in _layers_of(function))
    )

    assert with_tools == ["ProcessFunction", "SweeperFunction"]
    for function in functions.values():
        layers = _layers_of(function)
        assert any(layer.startswith("DepsLayer") for layer in layers)
        assert any(layer.startswith("SharedLayer") for layer in layers)
    largest_video = Settings.max_video_bytes  # the default (a dataclass field's class attribute)
    for logical_id in with_tools:
        room = _properties(functions[logical_id])["EphemeralStorage"]["Size"] * 1024 * 1024
        assert room >= largest_video + 512 * 1024 * 1024  # the video, and what else /tmp holds


@pytest.mark.parametrize("function_id", _function_ids())
def test_every_function_has_a_timeout_and_memory(function_id):
    properties = _function_properties(function_id)

    assert 1 <= int(_resolved(properties["Timeout"])) <= LAMBDA_TIMEOUT_LIMIT
    assert 128 <= int(_resolved(properties["MemorySize"])) <= 10240


@pytest.mark.parametrize("function_id", _function_ids())
def test_every_function_logs_to_its_own_log_group_with_a_retention(function_id):
    properties = _function_properties(function_id)
    log_groups = _resources(_raw(), "AWS::Logs::LogGroup")

    log_group_id = logical_id_of(properties["LoggingConfig"]["LogGroup"])
    log_group = _properties(log_groups[log_group_id])
    function_name = _resolved(properties["FunctionName"])
    assert isinstance(function_name, str)
    assert _resolved(log_group["LogGroupName"]) == f"/aws/lambda/{function_name}"
    assert int(_resolved(log_group["RetentionInDays"])) > 0

    users = [
        other
        for other in _function_ids()
        if _function_properties(other).get("LoggingConfig", {}).get("LogGroup") == {"Ref": log_group_id}
    ]
    assert users == [function_id]
    # SAM hands the setting to the function unchanged.
    deployed = _properties(_translated()["Resources"][function_id])
    assert deployed["LoggingConfig"]["LogGroup"] == {"Ref": log_group_id}


def test_local_function_names_are_the_deployed_ones():
    """The local stack logs with the names Lambda will use (the log keys say which function)."""
    local = LocalTemplate.load(TEMPLATE).functions
    assert {function_id: spec.name for function_id, spec in local.items()} == {
        function_id: _resolved(_function_properties(function_id)["FunctionName"])
        for function_id in _function_ids()
    }


def test_the_process_function_has_reserved_concurrency_its_queue_never_exceeds():
    properties = _function_properties("ProcessFunction")
    reserved = int(_resolved(properties["ReservedConcurrentExecutions"]))
    (event,) = _sqs_events("ProcessFunction").values()
    pollers = int(_resolved(event["ScalingConfig"]["MaximumConcurrency"]))

    assert reserved >= 2
    # More pollers than reserved concurrency throttle batches back into the queue, where each
    # throttled receive counts towards the dead-letter queue.
    assert pollers <= reserved


# ---------------------------------------------------------------- alarms
def test_an_alarm_fires_when_a_message_reaches_the_dead_letter_queue():
    redrive = _properties(_raw()["Resources"]["ProcessQueue"])["RedrivePolicy"]
    dead_letter_queue = logical_id_of(redrive["deadLetterTargetArn"])
    (alarm,) = _alarms_on(
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        {"Fn::GetAtt": [dead_letter_queue, "QueueName"]},
    )

    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
@pytest.mark.parametrize("function_id", _function_ids())
def test_every_function_has_an_alarm_on_its_errors_and_throttles(function_id, metric):
    (alarm,) = _alarms_on("AWS/Lambda", metric, "FunctionName", {"Ref": function_id})

    assert alarm["Statistic"] == "Sum"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0


def test_an_alarm_fires_when_an_original_waits_more_than_15_minutes_for_processing():
    """Stand-in for "items in processing for more than 15 minutes": the age of the oldest message
    in the processing queue, which grows while an original waits or keeps failing."""
    (alarm,) = _alarms_on(
        "AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", {"Fn::GetAtt": ["ProcessQueue", "QueueName"]}
    )

    assert alarm["Statistic"] == "Maximum"
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) in (
        ("GreaterThanThreshold", STALLED_AFTER),
        ("GreaterThanOrEqualToThreshold", STALLED_AFTER),
    )
    # Noticed within one sweep interval of becoming stalled.
    assert int(alarm["Period"]) * int(alarm["EvaluationPeriods"]) <= 15 * 60


def test_an_alarm_fires_when_the_sweeper_finds_items_stalled_in_processing():
    """The exact signal: the sweeper's count of items more than 15 minutes in processing, in the
    namespace and with the service dimension the functions' Metrics emit (the emission itself is
    tested in tests/integration/test_metrics.py)."""
    from medialib import observability
    from medialib.services import sweeping

    assert sweeping.PROCESSING_STALL.total_seconds() == STALLED_AFTER
    service = observability.metrics.service
    (alarm,) = _alarms_on(observability.NAMESPACE, "StalledProcessing", "service", service)
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "Maximum",
        "GreaterThanThreshold",
        0,
    )
    # One evaluation per sweep: the sweeper runs every 15 minutes.
    assert int(alarm["Period"]) * int(alarm["EvaluationPeriods"]) <= 15 * 60


def test_every_alarm_notifies_the_alarm_topic_when_one_is_given():
    raw = _raw()
    assert raw["Conditions"]["NotifyAlarms"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}
    notify = {"Fn::If": ["NotifyAlarms", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    for logical_id, alarm in _alarms().items():
        assert alarm.get("AlarmActions") == notify, logical_id
        assert alarm.get("OKActions") == notify, logical_id
        assert alarm.get("TreatMissingData") == "notBreaching", logical_id


# ---------------------------------------------------------------- delivery
PURGING_FUNCTIONS = {  # every function whose code purges an item's files (services/file_purge.py)
    "MediaApiFunction",
    "UploadsApiFunction",
    "ProcessFunction",
    "SweeperFunction",
    "DeadLetterFunction",
}


def test_item_urls_are_on_the_distribution_which_serves_only_get_and_head_with_the_safe_headers():
    variables = _raw()["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["MEDIA_BASE_URL"] == {"Fn::Sub": "https://${MediaDistribution.DomainName}"}
    assert variables["MEDIA_DISTRIBUTION_ID"] == {"Ref": "MediaDistribution"}

    distribution = _properties(_raw()["Resources"]["MediaDistribution"])["DistributionConfig"]
    behaviour = distribution["DefaultCacheBehavior"]
    assert behaviour["AllowedMethods"] == ["GET", "HEAD"]
    assert behaviour["ViewerProtocolPolicy"] in ("redirect-to-https", "https-only")
    policy_id = logical_id_of(behaviour["ResponseHeadersPolicyId"])
    security = _properties(_raw()["Resources"][policy_id])["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    assert security["ContentTypeOptions"]["Override"] is True
    csp = security["ContentSecurityPolicy"]
    assert csp["Override"] is True and "sandbox" in csp["ContentSecurityPolicy"].split("; ")


def test_only_the_functions_that_purge_files_may_invalidate_and_only_the_media_distribution():
    statements = _policy_statements(_translated())
    grants = [
        (owner, statement)
        for owner, statement in statements
        if any("cloudfront" in action.lower() for action in _listed(statement.get("Action", [])))
    ]

    assert {owner.removesuffix("Role") for owner, _ in grants} == PURGING_FUNCTIONS
    arn = "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${MediaDistribution}"
    for owner, statement in grants:
        assert statement["Effect"] == "Allow", owner
        assert _listed(statement["Action"]) == ["cloudfront:CreateInvalidation"], owner
        assert _listed(statement["Resource"]) == [{"Fn::Sub": arn}], owner


# ---------------------------------------------------------------- per-key limits
def _rest_api_operations() -> dict[tuple[str, str], dict[str, Any]]:
    (api,) = _resources(_translated(), "AWS::ApiGateway::RestApi").values()
    return {
        (path, method): operation
        for path, methods in _properties(api)["Body"]["paths"].items()
        for method, operation in methods.items()
    }


def test_every_keyed_operation_is_metered_by_the_key_the_authorizer_names():
    (api,) = _resources(_translated(), "AWS::ApiGateway::RestApi").values()
    assert _properties(api)["ApiKeySourceType"] == "AUTHORIZER"

    keyed = unkeyed = 0
    for (path, method), operation in _rest_api_operations().items():
        security = {name for requirement in operation.get("security") or [] for name in requirement}
        if "ApiKeyAuthorizer" in security:
            assert "api_key" in security, (path, method)
            keyed += 1
        else:  # public reads, the docs and CORS preflights carry no key to meter
            assert "api_key" not in security, (path, method)
            unkeyed += 1
    assert keyed >= 20 and unkeyed >= 4


def test_one_usage_plan_gives_every_key_the_limits_of_the_parameters():
    (plan,) = _resources(_raw(), "AWS::ApiGateway::UsagePlan").values()
    properties = _properties(plan)
    assert properties["ApiStages"] == [{"ApiId": {"Ref": "MediaApi"}, "Stage": {"Ref": "MediaApi.Stage"}}]
    assert properties["Throttle"] == {
        "RateLimit": {"Ref": "KeyRateLimit"},
        "BurstLimit": {"Ref": "KeyBurstLimit"},
    }
    # No quota unless one is given (KeyDailyQuota 0 by default)
    assert _resolved({"Quota": properties["Quota"]}) == {}
    # And one key alone cannot use up the whole stage's throttle at the default limits
    parameters = _raw()["Parameters"]
    (stage_settings,) = _properties(_raw()["Resources"]["MediaApi"])["MethodSettings"]
    assert parameters["KeyRateLimit"]["Default"] < stage_settings["ThrottlingRateLimit"]
    assert parameters["KeyBurstLimit"]["Default"] < stage_settings["ThrottlingBurstLimit"]


@pytest.mark.parametrize("kind", ["THROTTLED", "QUOTA_EXCEEDED"])
def test_a_refused_request_is_a_429_problem_with_retry_after(kind):
    responses = _properties(_raw()["Resources"]["MediaApi"])["GatewayResponses"]
    response = responses[kind]
    headers = response["ResponseParameters"]["Headers"]

    assert response["StatusCode"] == 429
    assert headers["Content-Type"] == "'application/problem+json'"
    assert int(headers["Retry-After"].strip("'")) >= 1
    assert '"code": "rate_limited"' in response["ResponseTemplates"]["application/json"]


# ---------------------------------------------------------------- remote import
def test_no_function_is_ever_allowed_loopback_imports():
    """ALLOW_LOOPBACK_IMPORTS is the local stack's switch only: never in the deployed template."""
    declared = [_raw().get("Globals", {}).get("Function", {}).get("Environment", {})]
    declared += [
        _properties(r).get("Environment", {})
        for r in _resources(_raw(), "AWS::Serverless::Function").values()
    ]

    for environment in declared:
        assert "ALLOW_LOOPBACK_IMPORTS" not in environment.get("Variables", {})
    assert "ALLOW_LOOPBACK_IMPORTS" not in TEMPLATE.read_text()


def test_the_import_fetch_deadline_fits_the_import_function_and_the_gateway():
    from medialib.services.remote_imports import CONNECT_TIMEOUT_SECONDS, FETCH_DEADLINE_SECONDS

    timeout = int(_resolved(_function_properties("UploadsApiFunction")["Timeout"]))

    assert CONNECT_TIMEOUT_SECONDS < FETCH_DEADLINE_SECONDS
    # The fetches run at once; storing what arrived needs the rest of the function's time.
    assert FETCH_DEADLINE_SECONDS + 10 <= timeout < API_GATEWAY_TIMEOUT
