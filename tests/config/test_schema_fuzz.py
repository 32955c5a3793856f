"""The OpenAPI schema tells the truth: schemathesis generates requests for every operation of the served schema and
sends them to the WSGI application in-process (no network server), as a standard user and as an admin, with a
fixed seed and a bounded number of examples per operation. Every answer must be no 5xx, have a status, content
type and body the schema documents, and, for an error, the one error shape.

Runs in the suite (so in CI, on SQLite and on PostgreSQL): about 1,000 requests in 8-10 s on this machine.
"""
from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.servers.dns_server import running_dns_server

pytestmark = pytest.mark.django_db

EXAMPLES = 25  # per operation and persona: bounded, so the whole file stays well under two minutes
SEED = 20261201


@schemathesis.check
def error_body_has_the_error_shape(ctx, response, case) -> bool | None:
    """Every 4xx/5xx body is {"error": {"code", "message", "fields"?, ...}} (config.errors)."""
    if response.status_code < 400:
        return None
    body = response.json()
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error shape: {body!r}"
    error = body["error"]
    assert isinstance(error, dict), f"not the error shape: {body!r}"
    assert isinstance(error.get("code"), str) and error["code"], f"no code: {body!r}"
    assert isinstance(error.get("message"), str) and error["message"].strip(), f"no message: {body!r}"
    fields = error.get("fields")
    assert fields is None or (
        isinstance(fields, dict) and all(isinstance(v, list) and all(isinstance(m, str) for m in v)
                                         for v in fields.values())
    ), f"fields are not sentences per field: {body!r}"
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          error_body_has_the_error_shape]


@pytest.fixture
def in_process():
    """The WSGI handler closes "old" connections at each request's start and end, which would close the test's
    transaction; Django's own test client switches that off the same way."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(settings, admin_a, admin_b, user_s, admin_x):
    """Objects the generated requests may name, beside the random ids: accounts, runs, a lock."""
    from diagnostics.models import DiagnosticRun
    from locks.services import settings_lock_create
    from tests.factories import account_create

    own = account_create(user_s, address="s@example.com")
    colleague = account_create(admin_b, address="b@example.com")
    foreign = account_create(admin_x, address="x@example.org")
    tool_run = DiagnosticRun.objects.create(organization=user_s.organization, kind="port_check", requested_by=user_s,
                                            target={"host": "imap.example.com", "port": 993})
    account_run = DiagnosticRun.objects.create(organization=user_s.organization, account=own, kind="account",
                                               status="passed", outcome="ok")
    settings_lock_create(actor=admin_a, user=admin_b, reason="fuzzing")
    return {
        "account_id": [own.pk, colleague.pk, foreign.pk],
        "id": [own.pk, tool_run.pk, account_run.pk],
        "user_id": [user_s.pk, admin_a.pk, admin_b.pk, admin_x.pk],
    }


def _fuzz(operation, persona, known_ids) -> list[str]:
    """Send EXAMPLES generated requests of one operation as `persona`; the failures, as text."""
    from accounts.services import api_token_issue

    failures: list[str] = []
    generated = operation.as_strategy()
    names = [p.name for p in operation.path_parameters]
    if names:  # half of the time an id that exists (someone's own, a colleague's, another tenant's)
        fixed = st.fixed_dictionaries({name: st.sampled_from(known_ids.get(name, [1])) for name in names})
        generated = st.one_of(generated, fixed.flatmap(lambda ids: operation.as_strategy(path_parameters=ids)))

    @seed(SEED)
    @hypothesis_settings(max_examples=EXAMPLES, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck), print_blob=False)
    @given(case=generated)
    def send(case) -> None:
        # A fresh token per request: the fuzzer may revoke the one it sends (DELETE auth/token/).
        _token, plain = api_token_issue(user=persona)
        response = case.call(app=application, headers={"Authorization": f"Token {plain}"})
        try:
            case.validate_response(response, checks=CHECKS)
        except (Exception, FailureGroup) as exc:  # noqa: BLE001 (collect every failure, then report them all)
            failures.append(f"{operation.label} as {persona.email}:\n{exc}")

    send()
    return failures


def test_every_operation_answers_what_the_schema_says_for_a_user_and_an_admin(in_process, world, user_s, admin_a,
                                                                              settings, api_as):
    with running_dns_server({}) as dns:  # provider detection asks DNS: a loopback server answering at once
        settings.DNS_NAMESERVERS = [f"127.0.0.1:{dns.port}"]
        token = api_as(admin_a)._credentials["HTTP_AUTHORIZATION"]
        schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application,
                                                headers={"Authorization": token})
        operations = [result.ok() for result in schema.get_all_operations()]
        assert len(operations) >= 21
        failures: list[str] = []
        for operation in operations:
            for persona in (user_s, admin_a):
                failures += _fuzz(operation, persona, world)
    assert not failures, "\n\n".join(failures[:20]) + f"\n\n{len(failures)} failures in all"
