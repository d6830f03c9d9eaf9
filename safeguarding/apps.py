from django.apps import AppConfig


class SafeguardingConfig(AppConfig):
    name = "safeguarding"
    verbose_name = "Safeguarding controls"

    def ready(self):
        # Training dates arrive with the staff list (core.staff_import), which may not import this app.
        from core.staff_import import register_training_recorder

        from .services import training_record_add

        register_training_recorder(training_record_add)
