from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "safeguarding"
    verbose_name = "Safeguarding controls"

    def ready(self):
        from .auth import connect_signals

        connect_signals()
