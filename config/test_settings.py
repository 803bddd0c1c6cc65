"""The small override used by the test suite: a cheap password hasher and a test-only sample app."""

import os

os.environ.setdefault("CRM_ENV", "test")

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS, REST_FRAMEWORK

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
INSTALLED_APPS = [*INSTALLED_APPS, "crm.core.tests.sample"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"token": "10000/min"}}
CELERY_TASK_ALWAYS_EAGER = os.environ.get("CELERY_TASK_ALWAYS_EAGER", "true") == "true"
CELERY_TASK_EAGER_PROPAGATES = True
LOGGING = {"version": 1, "disable_existing_loggers": False}
ROOT_URLCONF = "config.test_urls"
# Fixed keys for the test suite only (tests that rotate or lose keys use files of their own).
CRM_FIELD_KEYS = os.environ.get("CRM_FIELD_KEYS") or (
    '{"version": 1, "primary": "k1", "keys": {"k1": "dGVzdC1maWVsZC1rZXktMDAwMDAwMDAwMDAwMDAwMDE="},'
    ' "index_key": "dGVzdC1pbmRleC1rZXktMDAwMDAwMDAwMDAwMDAwMDE="}'
)
