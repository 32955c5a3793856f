"""The pure judgment of a run: rows, merging both servers, the verdict, the account status, the advice."""
from diagnostics import judge
from diagnostics.results import Code, SessionResult, Step, StepResult
from mailsettings.vocabulary import Protocol, Security


def session(*steps: StepResult) -> SessionResult:
    result = SessionResult(protocol=Protocol.IMAP, host="h", port=993, security=Security.SSL)
    result.steps.extend(steps)
    return result


def test_the_first_failure_wins_the_merged_row_over_a_pass():
    merged = judge.merge("port", {
        "incoming": StepResult(step=Step.PORT),
        "outgoing": StepResult(step=Step.PORT, code=Code.PORT_CLOSED),
    })
    assert merged.code == Code.PORT_CLOSED
    assert set(merged.details) == {"incoming", "outgoing"}


def test_a_warning_is_kept_when_nothing_failed():
    merged = judge.merge("settings", {
        "incoming": StepResult(step=Step.SETTINGS, code=Code.PORT_PROTOCOL_MISMATCH),
        "outgoing": StepResult(step=Step.SETTINGS),
    })
    assert judge.status_of(merged) == "warning"


def test_a_side_that_stopped_earlier_is_skipped_and_a_row_with_no_side_is_none():
    stopped = session(StepResult(step=Step.DNS, code=Code.DNS_NOT_FOUND))
    fine = session(StepResult(step=Step.DNS), StepResult(step=Step.PORT))
    merged = judge.merge_sessions("port", {"incoming": stopped, "outgoing": fine})
    assert merged.ok
    assert merged.details["incoming"] == {"skipped_because": "an_earlier_step_failed"}
    assert judge.merge_sessions("port", {"incoming": stopped, "outgoing": stopped}) is None


def test_no_tls_configured_is_not_a_failure_and_says_so():
    plain = session(StepResult(step=Step.DNS), StepResult(step=Step.PORT), StepResult(step=Step.GREETING))
    merged = judge.merge_sessions("tls", {"incoming": plain, "outgoing": plain})
    assert merged.ok
    assert merged.details["incoming"]["not_applicable"] == "no_tls_configured"


def test_a_run_fails_with_the_first_failing_code_even_after_a_warning():
    rows = [("warning", "port_protocol_mismatch"), ("passed", ""), ("failed", "tls_certificate_invalid"),
            ("skipped", ""), ("failed", "smtp_auth_failed")]
    assert judge.judge_run(rows) == ("failed", "tls_certificate_invalid")


def test_a_run_with_only_warnings_is_a_warning_and_a_clean_one_passes():
    assert judge.judge_run([("passed", ""), ("warning", "duplicate_sent_risk")]) == ("warning", "duplicate_sent_risk")
    assert judge.judge_run([("passed", ""), ("passed", "")]) == ("passed", "ok")


def test_the_account_is_auth_failed_when_a_password_is_refused():
    rows = [("login", "failed", "auth_app_password_required")]
    assert judge.account_status_for(run_status="failed", rows=rows) == "auth_failed"
    rows = [("login", "passed", ""), ("smtp_auth", "failed", "smtp_auth_failed")]
    assert judge.account_status_for(run_status="failed", rows=rows) == "auth_failed"


def test_the_account_cannot_connect_when_the_network_steps_fail():
    rows = [("port", "failed", "port_filtered"), ("login", "skipped", "")]
    assert judge.account_status_for(run_status="failed", rows=rows) == "connection_failed"
    rows = [("login", "failed", "disconnected_during_auth")]
    assert judge.account_status_for(run_status="failed", rows=rows) == "connection_failed"


def test_a_missing_folder_leaves_the_account_connected():
    rows = [("login", "passed", ""), ("folders", "failed", "folder_missing")]
    assert judge.account_status_for(run_status="failed", rows=rows) == "connected"


def test_a_run_that_could_not_finish_says_nothing_about_the_account():
    assert judge.account_status_for(run_status="error", rows=[]) is None


def test_advice_lists_failures_before_warnings_once_each():
    rows = [("warning", "provider_mismatch"), ("failed", "auth_invalid_credentials"), ("skipped", ""),
            ("failed", "auth_invalid_credentials")]
    assert judge.advice_codes(rows) == ["auth_invalid_credentials", "provider_mismatch"]
    advice = judge.advice_list(rows)
    assert advice[0]["scenario"] == "T2" and advice[0]["steps"]


def test_a_clean_run_gets_the_ok_advice_and_an_interrupted_one_does_not():
    assert [a["code"] for a in judge.advice_list([("passed", "")])] == ["ok"]
    assert [a["code"] for a in judge.advice_list([], run_outcome="worker_lost")] == ["worker_lost"]


def test_step_messages_say_what_was_actually_found():
    assert "assumed" in str(judge.step_message(name="domain", status="passed", code="ok",
                                               details={"source": "guess"}))
    assert "identified" in str(judge.step_message(name="domain", status="passed", code="ok",
                                                  details={"source": "mx"}))
    no_tls = {"incoming": {"not_applicable": "no_tls_configured"}, "outgoing": {"not_applicable": "x"}}
    assert "unencrypted" in str(judge.step_message(name="tls", status="passed", code="ok", details=no_tls))
    assert "ran out of time" in str(judge.step_message(name="login", status="skipped", code="",
                                                       details={"skipped_because": "run_time_limit"}))


def test_run_advice_is_empty_in_flight_and_follows_the_steps_once_finished():
    from types import SimpleNamespace

    def run(status, outcome, steps):
        rows = [SimpleNamespace(status=s, code=c, details={}) for s, c in steps]
        return SimpleNamespace(is_finished=status not in ("queued", "running"), outcome=outcome,
                               steps=SimpleNamespace(all=lambda: rows))

    assert judge.run_advice(run("running", "", [("failed", "port_closed")])) == []
    finished = judge.run_advice(run("failed", "port_closed", [("passed", "ok"), ("failed", "port_closed")]))
    assert [a["code"] for a in finished] == ["port_closed"]
    assert [a["code"] for a in judge.run_advice(run("error", "worker_lost", []))] == ["worker_lost"]
