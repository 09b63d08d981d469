"""Project wiring: the URL map, the council's own pages and each app's URLs."""

from django.contrib import admin
from django.urls import include, path

from council import views

# Rendered without the database: it may be why the request failed.
handler500 = "council.views.server_error"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "bodies/<slug:slug>/keyholders/confirm/",
        views.keyholder_confirm,
        name="keyholder_confirm",
    ),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("", include("meetings.urls")),
    path("", include("voting.urls")),
    path("", include("minutes.urls")),
]
