"""The site's URLs plus views that fail the way an outage makes them fail."""

from django.db import OperationalError
from django.urls import path

from council import urls


def database_gone(request):
    raise OperationalError("server closed the connection unexpectedly")


handler500 = urls.handler500
urlpatterns = [path("test-database-gone/", database_gone), *urls.urlpatterns]
