import os

from celery import Celery
from celery.signals import worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homevisits.settings")

app = Celery("homevisits")
app.config_from_object("django.conf:settings", namespace="CELERY")
# visits/alerts/tasks.py: the sweep and delivery; visits/records/tasks.py: the nightly retention listing;
# visits/field/tasks.py: removing old check-in locations.
app.autodiscover_tasks(["visits.alerts", "visits.records", "visits.field"])


@app.on_after_configure.connect
def _make_filesystem_broker_folders(sender, **kwargs):
    # kombu's filesystem transport (the no-server broker of the run command) needs its folders to exist.
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if options.get(key):
            os.makedirs(options[key], exist_ok=True)


@worker_process_init.connect
def _start_alert_sweeper(**kwargs):
    # Each pool process sweeps for itself (visits/alerts/sweeper.py). A pool process never forks, so its thread
    # and database connection are never copied into another process.
    from visits.alerts import sweeper  # Django is set up by now, not when this module is imported

    sweeper.start()
