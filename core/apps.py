from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Trust, schools and staff"

    def ready(self):
        from .auth import connect_signals

        connect_signals()
