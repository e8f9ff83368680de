from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response


class StableCursorPagination(CursorPagination):
    """Cursor pages: stable under concurrent inserts, constant cost however deep the page.

    Answers `{"results": [...], "next": url|null, "previous": url|null}` as the contract says.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"

    def get_page_size(self, request) -> int:
        # DRF answers the default page for a page_size it cannot read; a client that asked
        # for a size gets told instead. Above the maximum it still gets the maximum.
        text = request.query_params.get(self.page_size_query_param)
        if text is None:
            return self.page_size
        if not (text.isascii() and text.isdigit() and int(text) >= 1):
            raise ValidationError(
                {self.page_size_query_param: ["A valid integer of at least 1 is required."]}
            )
        return min(int(text), self.max_page_size)

    def get_paginated_response(self, data):
        return Response(
            {"results": data, "next": self.get_next_link(), "previous": self.get_previous_link()}
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results", "next", "previous"],
            "properties": {
                "results": schema,
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
            },
        }


def paginated_response(view, request, queryset, serializer_class, ordering=("id",)):
    """One page of `queryset` in `ordering`, serialized, as the list views answer it."""
    paginator = cursor_paginator(ordering)
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


def cursor_paginator(ordering: tuple[str, ...] = ("id",)) -> StableCursorPagination:
    """A paginator for one list view, in `ordering` (unique, so pages are stable)."""
    paginator = StableCursorPagination()
    paginator.ordering = ordering
    return paginator
