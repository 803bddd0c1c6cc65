import time, socket
import pytest
from django.test import override_settings
@pytest.mark.django_db
def test_probe(client):
    t = time.monotonic(); r = client.get("/healthz"); print(r.status_code, r.json(), dict(r.headers), time.monotonic() - t)
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        t = time.monotonic(); r = client.get("/healthz"); print(r.status_code, r.json(), time.monotonic() - t)
    s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1); port = s.getsockname()[1]
    with override_settings(CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0"):
        t = time.monotonic(); r = client.get("/healthz"); print(r.status_code, r.json(), time.monotonic() - t)
    s.close()
