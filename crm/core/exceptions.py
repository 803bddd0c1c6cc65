from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


class ConflictError(ValidationError):
    """Somebody else saved the record after the editor loaded it: the edit is refused, not merged."""

    def __init__(self, current: Any = None) -> None:
        super().__init__(
            _(
                "Someone else changed this record while you were editing it. Reload it to see the current version, then make your change again."
            ),
            code="conflict",
        )
        self.current = current
