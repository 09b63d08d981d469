from meetings.urls_preparation import urlpatterns as preparation_urls
from meetings.urls_sitting import urlpatterns as sitting_urls

app_name = "meetings"

urlpatterns = preparation_urls + sitting_urls
