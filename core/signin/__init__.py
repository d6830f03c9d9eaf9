"""Sign-in: django-allauth (passwords, TOTP, passkeys, single sign-on), django-axes lockout, session limits.

Session keys set at sign-in (core.signin.receivers) are read on every request by the middleware here, so
no page pays a query for them: the office board polls every few seconds.
"""
