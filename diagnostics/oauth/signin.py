"""The token sign-in of a run: an OAuth2 binding's login and smtp_auth steps use XOAUTH2 (or OAUTHBEARER) with its
access token, refreshed first when it is about to expire. A token the server refuses is refreshed and tried once
more; a grant the provider refuses for good ends as reauth_required; a provider that cannot be reached now is a
transient failure (server_busy), never "wrong password".

`for_account(account, module)` wraps a probe module (imap, pop3, smtp) so the walk calls it as it calls the module
itself (`probe_session(...)`): nothing else in the walk knows about OAuth2.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from diagnostics.oauth.refresh import ReauthRequired, RefreshUnavailable, oauth_access_token
from diagnostics.probes import smtp
from diagnostics.results import Code, SessionResult, Step, StepResult
from mailsettings.vocabulary import Protocol

_SIGN_IN_STEPS = {Step.LOGIN, Step.SMTP_AUTH}


class TokenSignIn:
    def __init__(self, module: Any, account_id: int):
        self.module = module
        self.account_id = account_id

    def probe_session(self, *, host: str, port: int, security: Any, username: str, password: str, options: Any,
                      on_step: Callable[[StepResult], None] | None = None, check_folders: bool = True
                      ) -> SessionResult:
        step = Step.SMTP_AUTH if self.module is smtp else Step.LOGIN
        try:
            token = oauth_access_token(account_id=self.account_id)
        except (ReauthRequired, RefreshUnavailable) as exc:
            return self._without_token(exc, step=step, host=host, port=port, security=security, on_step=on_step)
        held: list[StepResult] = []

        def relay(result: StepResult) -> None:
            # A refused token is not written yet: it is refreshed and tried once more first.
            if result.step in _SIGN_IN_STEPS and result.code == Code.OAUTH_TOKEN_INVALID and not token.refreshed \
                    and not held:
                held.append(result)
                return
            if on_step is not None:
                on_step(result)

        session = self._run(token, relay, host=host, port=port, security=security, username=username,
                            options=options, check_folders=check_folders)
        if not held:
            return session
        try:
            token = oauth_access_token(account_id=self.account_id, force=True)
        except (ReauthRequired, RefreshUnavailable) as exc:
            return self._without_token(exc, step=step, host=host, port=port, security=security, on_step=on_step,
                                       refused=held[0])
        return self._run(token, on_step, host=host, port=port, security=security, username=username,
                         options=options, check_folders=check_folders)

    def _run(self, token, on_step, **kwargs: Any) -> SessionResult:
        if self.module is smtp:
            kwargs.pop("check_folders")
        return self.module.probe_session(password=token.value, oauth_scopes=token.scopes, on_step=on_step, **kwargs)

    def _without_token(self, exc: Exception, *, step: Step, host: str, port: int, security: Any,
                       on_step: Callable[[StepResult], None] | None, refused: StepResult | None = None
                       ) -> SessionResult:
        """The session's result when there is no token to sign in with: the sign-in step carries the code."""
        if isinstance(exc, ReauthRequired):
            result = StepResult(step=step, code=Code.REAUTH_REQUIRED, details={"reason": "grant_refused"})
        else:
            result = StepResult(step=step, code=Code.SERVER_BUSY, transient=True,
                                details={"reason": "oauth_provider_unavailable"})
        if refused is not None:
            result.details["refused_token"] = refused.details.get("oauth_error", {})
            result.transcript = list(refused.transcript)
        protocol = Protocol(self.module.__name__.rpartition(".")[2])
        session = SessionResult(protocol=protocol, host=host, port=port, security=security)
        session.steps.append(result)
        if on_step is not None:
            on_step(result)
        return session


def for_account(account: Any, module: Any) -> Any:
    """The probe module a run signs in with: the module itself for a password binding, a TokenSignIn for OAuth2."""
    if getattr(account, "auth_method", "password") == "oauth2":
        return TokenSignIn(module, account.pk)
    return module
