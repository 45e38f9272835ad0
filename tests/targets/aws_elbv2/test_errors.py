"""AWS failures: which are retried, what the message says, unknown outcomes."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from slbsync.apply.retry import ChangeRunner, RetryPolicy
from slbsync.targets.aws_elbv2.client import boto3_client
from slbsync.targets.aws_elbv2.errors import ElbApiError, translate
from slbsync.targets.aws_elbv2.target import AwsElbv2Target
from tests.targets.aws_elbv2.conftest import load_spec_text, plan, spec_yaml


def client_error(
    code: str, status: int, action: str = "RegisterTargets"
) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": f"{code} happened"},
            "ResponseMetadata": {"RequestId": "req-42", "HTTPStatusCode": status},
        },
        action,
    )


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("Throttling", 400),
        ("ThrottlingException", 400),
        ("RequestLimitExceeded", 400),
        ("ServiceUnavailable", 503),
        ("InternalFailure", 500),
    ],
)
def test_throttling_and_server_errors_are_transient(code, status):
    error = translate(client_error(code, status), "aws", "RegisterTargets")

    assert error.transient


def test_validation_error_is_final_and_names_action_code_and_request():
    error = translate(client_error("ValidationError", 400), "aws", "CreateListener")

    assert not error.transient
    assert str(error) == (
        "target aws: CreateListener failed with ValidationError "
        "(request id req-42): ValidationError happened"
    )


def test_read_timeout_is_an_unknown_outcome():
    error = translate(
        ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), "aws", "CreateListener"
    )

    assert error.outcome_unknown
    assert not error.transient


class Flaky:
    """A boto3 client whose chosen calls fail first with given errors."""

    def __init__(self, real: Any, failures: dict[str, list[Exception]]) -> None:
        self.real = real
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.real, name)
        queue = self.failures.get(name, [])

        def call(**params: Any) -> Any:
            if queue:
                raise queue.pop(0)
            return method(**params)

        return call


def flaky_target(failures: dict[str, list[Exception]]) -> AwsElbv2Target:
    spec = load_spec_text(spec_yaml("")).targets[0]
    return AwsElbv2Target(spec, lambda s: Flaky(boto3_client(s), failures))


def chat(aws) -> str:
    return spec_yaml(
        f"""
        load_balancers:
          chat:
            target: aws
            subnets: [{aws.subnets[0]}, {aws.subnets[1]}]
            server_groups:
              web:
                servers: [{{id: {aws.instances[0]}, port: 8080}}]
            listeners:
              - {{protocol: http, port: 80, server_group: web,
                  health_check: {{interval: 10s}}}}
        """
    )


def test_throttled_call_is_retried_and_counted(aws):
    throttles = [client_error("Throttling", 400, "CreateLoadBalancer")] * 2
    target = flaky_target({"create_load_balancer": list(throttles)})
    spec = load_spec_text(chat(aws))
    _, changes = plan(target, spec)
    waits: list[float] = []
    runner = ChangeRunner(target, policy=RetryPolicy(initial=0.1), sleep=waits.append)

    results = [runner.run(change) for change in changes]

    assert all(result.succeeded for result in results)
    assert results[0].attempts == 3
    assert len(waits) == 2
    assert target.call_results()[("CreateLoadBalancer", "Throttling")] == 2
    assert target.is_throttling(translate(throttles[0], "aws", "CreateLoadBalancer"))


def test_lost_create_answer_is_settled_by_reading(aws):
    lost = ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
    target = flaky_target({})
    spec = load_spec_text(chat(aws))
    _, changes = plan(target, spec)
    create = changes[0]
    target.apply_change(create)  # it lands, then the answer is "lost"
    target.catalogue.lb_arns.clear()
    error = translate(lost, "aws", "CreateLoadBalancer")

    assert target.is_outcome_unknown(error)
    assert target.has_taken_effect(create)
    assert target.catalogue.lb_arns["chat"].startswith("arn:aws:elasticloadbalancing")


def test_missing_credentials_say_how_to_set_them(aws, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.delenv("AWS_SESSION_TOKEN")
    target = flaky_target({})

    with pytest.raises(ElbApiError) as caught:
        target.read_live_state(load_spec_text(chat(aws)))

    assert "no AWS credentials found" in str(caught.value)
    assert "AWS_ACCESS_KEY_ID" in str(caught.value)


def test_a_new_name_in_a_names_call_falls_back_to_listing(aws):
    # AWS fails DescribeLoadBalancers(Names=...) whole when one name is new;
    # moto answers with the ones it has, so the failure is injected here.
    not_found = client_error("LoadBalancerNotFound", 400, "DescribeLoadBalancers")
    target = flaky_target({"describe_load_balancers": [not_found]})
    aws.elbv2.create_load_balancer(Name="chat", Subnets=aws.subnets)

    live = target.read_live_state(load_spec_text(chat(aws)))

    assert [lb.spec.name for lb in live.load_balancers] == ["chat"]
    assert target.call_results()[("DescribeLoadBalancers", "LoadBalancerNotFound")] == 1
    assert dict(live.reads)["DescribeLoadBalancers"] == 2  # the batch, the listing
