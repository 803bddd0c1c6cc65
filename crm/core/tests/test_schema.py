"""The committed OpenAPI schema (openapi.yaml) matches the code: API changes are deliberate."""

from pathlib import Path

from django.conf import settings
from django.core.management import call_command


def test_openapi_schema_has_not_drifted(tmp_path):
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--urlconf", "config.urls", "--file", str(generated), "--validate")
    committed = Path(settings.BASE_DIR, "openapi.yaml").read_text()
    assert generated.read_text() == committed, "The API changed: run `make schema` and commit openapi.yaml."
