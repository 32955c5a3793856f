"""A Django test client for the pages that remembers every response, so a test can scan them all for a secret."""
from __future__ import annotations

from django.test import Client

SENTINEL = "Sentinel-Pw-7f3a!x"  # typed into password fields; must never come back in a page


class PageClient(Client):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list = []

    def request(self, **request):
        response = super().request(**request)
        self.seen.append(response)
        return response

    def assert_never_echoed(self, secret: str = SENTINEL) -> None:
        for response in self.seen:
            body = b"".join(response.streaming_content) if response.streaming else response.content
            assert secret.encode() not in body, f"{response.request['PATH_INFO']} echoed a password"
            assert all(secret not in str(value) for value in response.headers.values())
