"""The people picker's suggestions: a few active colleagues matching what was typed."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import View

from crm.core.views.errors import bad_request

from .. import selectors

MAX_QUERY_LENGTH = 100


class UserAutocompleteView(LoginRequiredMixin, View):
    """Suggestions for ``crm.core.widgets.UserSelect``: any signed-in person may pick a colleague.

    Answers the fragment of options the picker shows; text longer than a name or an email is refused.
    """

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not request.user.is_authenticated and getattr(request, "htmx", False):
            # A picker on a page whose session ended: no login page inside the suggestions.
            return HttpResponse(status=401)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        query = request.GET.get("q", "")
        if len(query) > MAX_QUERY_LENGTH:
            return bad_request(request)
        users = selectors.user_autocomplete(user=request.user, query=query.strip())
        rows = [(person, ", ".join(team.name for team in person.teams.all())) for person in users]
        return render(request, "accounts/partials/_user_options.html", {"rows": rows, "query": query.strip()})
