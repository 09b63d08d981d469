from django.urls import path

from meetings import views_sitting as views

urlpatterns = [
    path("sitting/<int:pk>/", views.sitting_page, name="sitting"),
    path("sitting/<int:pk>/join/", views.sitting_join, name="sitting_join"),
    path("sitting/<int:pk>/leave/", views.sitting_leave, name="sitting_leave"),
    path("sitting/<int:pk>/floor/", views.sitting_ask_floor, name="sitting_floor"),
    path(
        "sitting/<int:pk>/floor/withdraw/",
        views.sitting_withdraw,
        name="sitting_withdraw",
    ),
    path("sitting/<int:pk>/console/", views.console_page, name="sitting_console"),
    path(
        "sitting/<int:pk>/console/<slug:action>/",
        views.console_action,
        name="sitting_console_action",
    ),
    path("sitting/<int:pk>/register/", views.register_page, name="sitting_register"),
    path(
        "sitting/<int:pk>/register/record/",
        views.register_record,
        name="sitting_register_record",
    ),
    path(
        "sitting/<int:pk>/recusal/",
        views.register_recusal,
        name="sitting_recusal",
    ),
    path("sitting/<int:pk>/display/", views.display_page, name="sitting_display"),
    path("public/sitting/<int:pk>/", views.public_page, name="sitting_public"),
]
