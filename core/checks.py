"""Deploy checks: backends that would print, file or keep in memory what must reach a person, and providers that
could not send, or whose webhooks could not be verified.

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


NOTIFY_SMS_BACKEND = "visits.alerts.providers.govuk_notify.NotifySMSBackend"
TWILIO_SMS_BACKEND = "visits.alerts.providers.twilio_sms.TwilioSMSBackend"
# Each provider's settings that must be there for it to send, and for its webhooks to be verified.
PROVIDER_SETTINGS = {
    NOTIFY_SMS_BACKEND: ("NOTIFY_API_KEY", "NOTIFY_SMS_TEMPLATE_ID", "NOTIFY_CALLBACK_TOKEN"),
    TWILIO_SMS_BACKEND: ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN"),
}


def provider_problems(values: dict) -> list[tuple[str, str]]:
    """(setting, why) for a text or letter provider that is chosen but could not send, or whose webhooks could not
    be verified (a forged delivery receipt or check-in would be believed). `values`: the settings by name."""
    problems = []
    backend = values.get("SMS_BACKEND", "")
    for name in PROVIDER_SETTINGS.get(backend, ()):
        if not values.get(name):
            problems.append((name, f"SMS_BACKEND is {backend}, which needs {name}: set it in the environment."))
    if backend == TWILIO_SMS_BACKEND and not (
        values.get("TWILIO_FROM_NUMBER") or values.get("TWILIO_MESSAGING_SERVICE_SID")
    ):
        problems.append(
            ("TWILIO_FROM_NUMBER", "Twilio needs the number texts come from: set TWILIO_FROM_NUMBER (or a service).")
        )
    if values.get("NOTIFY_API_KEY") and not values.get("NOTIFY_CALLBACK_TOKEN") and backend != NOTIFY_SMS_BACKEND:
        problems.append(
            (
                "NOTIFY_CALLBACK_TOKEN",
                "NOTIFY_API_KEY is set (letters by post), but NOTIFY_CALLBACK_TOKEN is not: Notify's receipts could "
                "not be verified. Set the token you gave Notify for its callbacks.",
            )
        )
    if backend in PROVIDER_SETTINGS and not str(values.get("SITE_URL", "")).startswith("https://"):
        problems.append(
            ("SITE_URL", "SITE_URL must be the site's https address: the providers' webhooks are checked against it.")
        )
    return problems


CHECK_IDS = {"EMAIL_BACKEND": "homevisits.E001", "SMS_BACKEND": "homevisits.E002"}


@checks.register(checks.Tags.security, deploy=True)
def check_notification_backends(app_configs, **kwargs):
    from django.conf import settings

    found = unsafe_backends(email_backend=settings.EMAIL_BACKEND, sms_backend=settings.SMS_BACKEND)
    found += provider_problems({name: getattr(settings, name, "") for name in dir(settings) if name.isupper()})
    return [
        checks.Error(message, id=CHECK_IDS.get(setting, "homevisits.E003"), obj=setting) for setting, message in found
    ]
