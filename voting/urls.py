app_name = "voting"

urlpatterns: list = []
