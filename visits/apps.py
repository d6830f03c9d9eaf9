from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "visits"
    verbose_name = "Home visits"

    def ready(self):
        # Families may not import visits; they learn which households a user's open visits go to from here.
        from families.access import register_open_visit_households
        from families.services import register_household_moved

        from .access import open_visit_household_ids
        from .requests.services import visits_after_household_moved

        register_open_visit_households(open_visit_household_ids)
        register_household_moved(visits_after_household_moved)
