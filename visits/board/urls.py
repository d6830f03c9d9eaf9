from django.urls import path

from . import screens, views

# Under /board/ (homevisits/urls.py).
urlpatterns = [
    path("", views.board, name="board"),
    path("live/", views.board_live, name="board-live"),
    path("timetable/", views.timetable, name="board-timetable"),
    path("alerts/<int:pk>/acknowledge/", views.acknowledge, name="board-acknowledge"),
    path("alerts/<int:pk>/confirm-safe/", views.confirm_safe, name="board-confirm-safe"),
    path("visits/<int:pk>/code-word/", views.office_duress, name="board-duress"),
    path("screens/", screens.screen_list, name="board-screens"),
    path("screens/<int:pk>/new-link/", screens.screen_new_link, name="board-screen-new-link"),
    path("screens/<int:pk>/switch-off/", screens.screen_switch_off, name="board-screen-switch-off"),
    path("screens/enrol/", screens.screen_enrol, name="board-screen-enrol"),
    path("screens/enrol/<str:code>/", screens.screen_enrol, name="board-screen-enrol-code"),
]
