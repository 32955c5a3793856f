"""OAuth2 network work: the provider's endpoints (discovery, code exchange, refresh, revocation, userinfo), the
sign-in flow of the pages and the API, the workers' token refresh, and the token sign-in of runs."""
