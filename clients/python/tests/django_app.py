"""A one-file Django project served by runserver, with pg_health's
component and routes, connecting where DATABASES says (test/t/043_python.pl).

    PGH_HOST=/tmp PGH_PORT=5432 PGH_USER=dj_svc PGH_GO_FILE=/tmp/go \
    python clients/python/tests/django_app.py 8002

Its start-up checks "the schema" when the go file appears; "fail: <why>"
makes that raise (the component reports failed, with the message), and it
tries again when the file changes.  SIGTERM reports the component stopped.
"""
from __future__ import annotations

import logging
import sys
import threading

import django
from django.conf import settings

from apps_common import check, env, wait_go

logging.basicConfig(level=logging.INFO, format="django_app: %(message)s")
NAME = env("PGH_COMPONENT", "dj")
GO = env("PGH_GO_FILE")

settings.configure(
    DEBUG=False,
    SECRET_KEY="pg_health test application",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[],
    MIDDLEWARE=[],
    DATABASES={"default": {"ENGINE": "django.db.backends.postgresql", "NAME": "postgres",
                           "USER": env("PGH_USER"), "HOST": env("PGH_HOST"),
                           "PORT": env("PGH_PORT")}},
)

import pg_health  # noqa: E402  (after the settings, which pg_health.django reads)
import pg_health.django  # noqa: E402

component = pg_health.Component(NAME, pg_health.django.conninfo("default"), heartbeat_interval=0.5)
readiness = pg_health.Readiness(pg_health.django.conninfo("default"), timeout=2.0,
                                component=component, application_name=NAME + " readiness")
urlpatterns = pg_health.django.urls(readiness)


def initialize() -> None:
    component.start("waiting for the go file")
    last = wait_go(GO)
    while True:
        try:
            with component.starting("checking the schema"):
                check(last)
        except RuntimeError:
            # failed, with the message, until the file changes
            last = wait_go(GO, last)
            continue
        component.ready()
        logging.info("%s ready", NAME)
        return


if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    django.setup()
    component.stop_on_exit()           # SIGTERM: stopped, then the process ends
    threading.Thread(target=initialize, daemon=True).start()
    execute_from_command_line([sys.argv[0], "runserver", "--noreload", "127.0.0.1:" + sys.argv[1]])
