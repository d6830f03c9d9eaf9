"""Deploy checks: backends that would print, file or keep in memory what must reach a person.

A console email backend would put a password-reset link in the log; a console text-message backend would print
a duress alert (an address, names, a mobile) and count it as sent. Production refuses to start with either
(homevisits/settings.py calls `unsafe_backends`), and `manage.py check --deploy` names the setting anywhere.
"""

from django.core import checks

# Development and test backends: nothing they are given reaches anyone.
DEVELOPMENT_EMAIL_BACKENDS = frozenset(
    f"django.core.mail.backends.{name}.EmailBackend" for name in ("console", "filebased", "locmem", "dummy")
)
DEVELOPMENT_SMS_BACKENDS = frozenset(f"visits.alerts.sms.{name}SMSBackend" for name in ("Console", "Locmem", "File"))


def unsafe_backends(*, email_backend: str, sms_backend: str) -> list[tuple[str, str]]:
    """(setting, why) for each backend that must not be used in production."""
    problems = []
    if email_backend in DEVELOPMENT_EMAIL_BACKENDS:
        problems.append(
            (
                "EMAIL_BACKEND",
                f"EMAIL_BACKEND is {email_backend}, which sends no email: set EMAIL_URL to an SMTP server "
                "(smtp+tls://...) or a provider's backend.",
            )
        )
    if sms_backend in DEVELOPMENT_SMS_BACKENDS:
        problems.append(
            (
                "SMS_BACKEND",
                f"SMS_BACKEND is {sms_backend}, which sends no text message: set SMS_BACKEND to a provider's backend.",
            )
        )
    return problems


CHECK_IDS = {"EMAIL_BACKEND": "homevisits.E001", "SMS_BACKEND": "homevisits.E002"}


@checks.register(checks.Tags.security, deploy=True)
def check_notification_backends(app_configs, **kwargs):
    from django.conf import settings

    found = unsafe_backends(email_backend=settings.EMAIL_BACKEND, sms_backend=settings.SMS_BACKEND)
    return [checks.Error(message, id=CHECK_IDS[setting], obj=setting) for setting, message in found]
