from __future__ import annotations

from django.urls import path

from compat.apps.django_project import views

urlpatterns = [
    path("hello", views.hello),
    path("unavailable", views.unavailable),
    path("boom", views.boom),
    path("stream", views.stream),
]
