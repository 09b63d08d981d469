from django.urls import path

from meetings import views_preparation as views

urlpatterns = [
    path("bodies/<slug:slug>/meetings/", views.body_meetings, name="body_meetings"),
    path(
        "bodies/<slug:slug>/meetings/new/", views.meeting_create, name="meeting_create"
    ),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting_detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="meeting_edit"),
    path("meetings/<int:pk>/convene/", views.meeting_convene, name="meeting_convene"),
    path(
        "meetings/<int:pk>/convocations/",
        views.convocations_progress,
        name="convocations_progress",
    ),
    path(
        "meetings/<int:pk>/convocations/send/",
        views.convocations_resend,
        name="convocations_resend",
    ),
    path("meetings/<int:pk>/items/new/", views.item_create, name="item_create"),
    path(
        "meetings/<int:pk>/submit/", views.submission_create, name="submission_create"
    ),
    path("items/<int:pk>/edit/", views.item_edit, name="item_edit"),
    path("items/<int:pk>/delete/", views.item_delete, name="item_delete"),
    path("items/<int:pk>/move/", views.item_move, name="item_move"),
    path("items/<int:pk>/documents/", views.document_upload, name="document_upload"),
    path("documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path(
        "documents/<int:pk>/<str:name>",
        views.document_download,
        name="document_download",
    ),
    path(
        "submissions/<int:pk>/decide/",
        views.submission_decide,
        name="submission_decide",
    ),
    path("public/<slug:slug>/", views.public_calendar, name="public_calendar"),
    path(
        "public/<slug:slug>/meetings/<int:pk>/",
        views.public_agenda,
        name="public_agenda",
    ),
    path("public/<slug:slug>/calendar.ics", views.calendar_feed, name="calendar_feed"),
]
