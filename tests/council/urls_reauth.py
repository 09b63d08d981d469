"""The project's URLs plus one view behind the re-authentication guard."""

from django.http import HttpResponse
from django.urls import path

from council.auth import recent_login_required
from council.urls import urlpatterns as project_urlpatterns


@recent_login_required
def sensitive(request):
    return HttpResponse("sensitive action allowed")


urlpatterns = [path("test-sensitive/", sensitive, name="test_sensitive")]
urlpatterns += project_urlpatterns
