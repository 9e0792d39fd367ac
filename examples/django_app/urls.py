"""The routes and their views, in one module since each view is one line of intent."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

INDEX = """<!doctype html><html lang="en"><meta charset="utf-8"><title>friendly_errors + Django</title>
<h1>friendly_errors + Django</h1><ul>
<li><a href="/bad-gateway">502 Bad Gateway</a></li>
<li><a href="/maintenance">503 Service Unavailable, with Retry-After</a></li>
<li><a href="/gateway-timeout">504 Gateway Timeout</a></li>
<li><a href="/slow-report">524 A Timeout Occurred (custom template and catalogue text)</a></li>
<li><a href="/report-engine">590 Report Engine Offline (a code from catalogue.toml)</a></li>
<li><a href="/crash">an unhandled exception</a></li>
</ul></html>"""


def index(request: HttpRequest) -> HttpResponse:
    return HttpResponse(INDEX)


def bad_gateway(request: HttpRequest) -> HttpResponse:
    return HttpResponse("upstream sent garbage", status=502, content_type="text/plain")


def maintenance(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        "Down for maintenance until 14:00 UTC.", status=503, content_type="text/plain"
    )
    response["Retry-After"] = "120"
    return response


def gateway_timeout(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=504)


def slow_report(request: HttpRequest) -> HttpResponse:
    return HttpResponse(status=524)


def report_engine(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"detail": "The report engine is being upgraded."}, status=590)


def crash(request: HttpRequest) -> HttpResponse:
    # Django logs this on django.request and answers its own 500, which the middleware replaces.
    raise RuntimeError("the example crashed on purpose")


urlpatterns = [
    path("", index),
    path("bad-gateway", bad_gateway),
    path("maintenance", maintenance),
    path("gateway-timeout", gateway_timeout),
    path("slow-report", slow_report),
    path("report-engine", report_engine),
    path("crash", crash),
]
