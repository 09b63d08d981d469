from django.urls import path

from voting import views

app_name = "voting"

urlpatterns = [
    path("polls/<int:poll_id>/", views.poll_detail, name="poll"),
    path("polls/<int:poll_id>/vote/", views.poll_vote, name="vote"),
    path("polls/<int:poll_id>/cast/", views.poll_cast, name="cast"),
    path("polls/<int:poll_id>/close/", views.vote_close, name="close"),
    path("polls/<int:poll_id>/proxy/", views.proxy_vote, name="proxy"),
    path("polls/<int:poll_id>/box/", views.ballot_box, name="box"),
    path("polls/<int:poll_id>/unseal/", views.unseal, name="unseal"),
    path("polls/<int:poll_id>/announce/", views.announce, name="announce"),
    path("meetings/<int:meeting_id>/votes/", views.vote_controls, name="controls"),
    path("meetings/<int:meeting_id>/votes/open/", views.vote_open, name="open"),
    path("meetings/<int:meeting_id>/results/", views.meeting_results, name="results"),
    path("items/<int:item_id>/candidates/", views.candidates, name="candidates"),
    path(
        "candidates/<int:candidate_id>/remove/",
        views.candidate_delete,
        name="candidate_remove",
    ),
    path("bodies/<slug:slug>/sealing-key/", views.key_setup, name="key_setup"),
    path("bodies/<slug:slug>/keyholders/", views.keyholders, name="keyholders"),
]
