"""The walk of a "Send a test message" run (RunKind.SENT_TEST): send, count the copies in Sent, clean up.

Called by diagnostics.walk like the other walks. The account's password is read here, inside the worker, and goes only
to the account's own SMTP and IMAP servers; the task message carried the run id only.
"""
from __future__ import annotations

from django.conf import settings

from diagnostics import judge
from diagnostics.models import STEPS_OF_KIND, RunKind
from diagnostics.probes import sent_copies
from diagnostics.results import Code, Step, StepResult
from diagnostics.sent_test_message import compose, new_message_id
from mailsettings.vocabulary import Security

STEPS = tuple(str(step) for step in STEPS_OF_KIND[RunKind.SENT_TEST])


def _record(writer, wanted: tuple[str, ...], session_result, written: set[str]) -> None:
    """A session that stopped before its wanted steps: the first one carries the code of the step that failed."""
    failed = session_result.failed
    for name in wanted:
        if name in written:
            continue
        if failed is not None and str(failed.step) not in wanted and not written:
            writer.write_result(name, StepResult(step=Step(name), code=failed.code, transient=failed.transient,
                                                 details={"stopped_at": str(failed.step),
                                                          **judge.step_details(failed)}))
            written.add(name)
        else:
            writer.skip(name, because="an_earlier_step_failed")


def walk(run, writer, *, options) -> None:
    """`options`: the probes' limits and policy for this run (diagnostics.walk.probe_options)."""
    account = run.account
    if account.missing_passwords:
        # The password rule removed a password after this run was asked for: nothing is sent, nothing signs in.
        writer.skip(Step.SEND, because=Code.PASSWORD_NEEDED, code=Code.PASSWORD_NEEDED)
        for name in STEPS[1:]:
            writer.skip(name, because=Code.PASSWORD_NEEDED)
        return
    message = compose(account.address, message_id=new_message_id(account.address))
    written: set[str] = set()

    def on_step(result: StepResult) -> None:
        if str(result.step) in STEPS:
            writer.write_result(result.step, result)
            written.add(str(result.step))

    sent = sent_copies.send_session(
        host=account.smtp_host, port=account.smtp_port, security=Security(account.smtp_security),
        username=account.effective_smtp_username, password=account.effective_smtp_password, options=options,
        message=message, sender=account.address, on_step=on_step,
    )
    if sent.failed is not None:
        _record(writer, STEPS, sent, written)
        return
    writer.check_time()
    copies = sent_copies.copies_session(
        host=account.incoming_host, port=account.incoming_port, security=Security(account.incoming_security),
        username=account.incoming_username, password=account.incoming_password, options=options,
        message=message, append=account.save_sent_on_server, wait=settings.DIAGNOSTICS_SENT_TEST_WAIT,
        on_step=on_step,
    )
    _record(writer, STEPS[1:], copies, written)
