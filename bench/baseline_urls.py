"""A minimal Django view that inserts one row under a (poll, member) unique constraint.

Same middleware, same session login and CSRF check as the product; none of the
ballot's rules, sealing, audit or broadcast. Served only by the benchmark.
"""

from django.db import IntegrityError, connection, transaction
from django.http import HttpResponse, HttpResponseForbidden
from django.urls import path
from django.views.decorators.http import require_POST

TABLE_SQL = """
CREATE TABLE IF NOT EXISTS bench_participation (
    id bigserial PRIMARY KEY,
    poll_id bigint NOT NULL,
    member_id bigint NOT NULL,
    CONSTRAINT bench_one_row_per_member UNIQUE (poll_id, member_id)
)
"""


@require_POST
def insert_one(request, poll_id: int):
    if not request.user.is_authenticated:
        return HttpResponseForbidden()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO bench_participation (poll_id, member_id) VALUES (%s, %s)",
                [poll_id, request.user.pk],
            )
    except IntegrityError:
        return HttpResponse("already recorded")
    return HttpResponse("recorded")


urlpatterns = [path("polls/<int:poll_id>/cast/", insert_one)]
