from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Trust, schools and staff"

    def ready(self):
        # Models are loaded only once the app registry is ready, so the signal wiring is imported here.
        from . import checks  # noqa: F401 - registers the deploy checks
        from .auth import connect_signals
        from .signin.receivers import connect_signals as connect_sign_in_signals

        connect_signals()
        connect_sign_in_signals()
