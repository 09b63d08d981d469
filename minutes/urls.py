from django.urls import path

from minutes import views

app_name = "minutes"

urlpatterns = [
    path("meetings/<int:meeting_id>/minutes/", views.minutes_detail, name="minutes"),
    path(
        "meetings/<int:meeting_id>/minutes/draft/",
        views.minutes_generate,
        name="generate",
    ),
    path("meetings/<int:meeting_id>/minutes/edit/", views.minutes_edit, name="edit"),
    path(
        "meetings/<int:meeting_id>/minutes/approve/",
        views.minutes_approve,
        name="approve",
    ),
    path("meetings/<int:meeting_id>/minutes/place/", views.minutes_place, name="place"),
    path(
        "meetings/<int:meeting_id>/minutes/reopen/", views.minutes_reopen, name="reopen"
    ),
    path(
        "meetings/<int:meeting_id>/minutes/objections/",
        views.minutes_object,
        name="object",
    ),
    path("meetings/<int:meeting_id>/minutes/adopt/", views.minutes_adopt, name="adopt"),
    path(
        "meetings/<int:meeting_id>/minutes/versions/",
        views.minutes_versions,
        name="versions",
    ),
    path(
        "meetings/<int:meeting_id>/minutes.pdf", views.minutes_pdf, name="minutes_pdf"
    ),
    path(
        "meetings/<int:meeting_id>/register.pdf",
        views.register_pdf,
        name="register_pdf",
    ),
    path("meetings/<int:meeting_id>/decisions/", views.decisions, name="decisions"),
    path(
        "meetings/<int:meeting_id>/decisions/register/",
        views.decisions_issue,
        name="issue",
    ),
    path(
        "meetings/<int:meeting_id>/print/<slug:kind>/",
        views.print_start,
        name="print_start",
    ),
    path("print-jobs/<int:pk>/", views.print_job, name="print_job"),
    path(
        "print-jobs/<int:pk>/status.json",
        views.print_job_status,
        name="print_job_status",
    ),
    path("print-jobs/<int:pk>/file.pdf", views.print_job_file, name="print_job_file"),
    path("decisions/<int:pk>.pdf", views.record_pdf, name="record_pdf"),
    path(
        "decisions/<int:pk>/printed/",
        views.record_mark_printed,
        name="record_printed",
    ),
    path("decisions/<int:pk>/scan/", views.record_scan, name="record_scan"),
    path("decisions/<int:pk>/signature/", views.record_sign, name="record_sign"),
    path("decisions/<int:pk>/correction/", views.record_correct, name="record_correct"),
    path("verify/<uuid:public_id>/", views.verify, name="verify"),
    path("bodies/<slug:slug>/oversight/", views.oversight, name="oversight"),
    path(
        "bodies/<slug:slug>/oversight/verify/",
        views.oversight_verify,
        name="oversight_verify",
    ),
]
