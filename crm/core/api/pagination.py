from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable, fast pages at any depth: no COUNT(*), no OFFSET."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    ordering = "-pk"
