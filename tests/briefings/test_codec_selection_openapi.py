"""The recording route's OpenAPI entry lists both file types: a VP8 hall is recorded to WebM, an
H.264 hall to Matroska (``video/x-matroska``), served with the type of its file."""

from __future__ import annotations

from openapi_spec_validator import validate

from meetings.briefings.http import RECORDING_TYPES, routes
from server.http.openapi import build_openapi

PATH = "/api/v1/briefings/{briefing_id}/recordings/{name}"


def test_the_recording_route_lists_webm_and_matroska() -> None:
    spec = build_openapi([routes], "1")
    validate(spec)
    ok = spec["paths"][PATH]["get"]["responses"]["200"]["content"]
    assert set(ok) == {"video/webm", "video/x-matroska"} == set(RECORDING_TYPES.values())
    assert ok["video/x-matroska"]["schema"]["contentMediaType"] == "video/x-matroska"
    # the JSON routes beside it are described as before
    listing = spec["paths"]["/api/v1/briefings"]["get"]["responses"]["200"]["content"]
    assert set(listing) == {"application/json"}
