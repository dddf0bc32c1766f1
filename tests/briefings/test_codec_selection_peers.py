"""Last-N selection across codecs with real aiortc peers (the unit cases are in
``test_codec_selection.py``): a VP8-only viewer with two slots sees the chair and a VP8 commune,
not the H.264 tablet that is speaking, while a viewer taking both codecs sees the tablet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from meetings.briefings.sfu.room import Room
from tests.briefings.h264_media import h264_clip_fixture  # noqa: F401
from tests.briefings.sfu_support import Endpoint, Tone, frames_reach, join, until

VIDEO_FRAMES = 60
"""Two seconds of the 30 fps clip on each slot (a count, never a rate)."""


def _slots(ep: Endpoint) -> dict[str, dict[str, Any]]:
    """The video slots of the last ``slots`` frame ``ep`` was sent, by who fills them."""
    frames = [f for f in ep.signals if f.type == "slots"]
    if not frames:
        return {}
    slots: list[dict[str, Any]] = frames[-1].data["slots"]
    return {s["source"]: s for s in slots if s["kind"] == "video" and s["source"]}


@pytest.mark.slow
async def test_a_vp8_only_viewer_sees_a_vp8_commune_rather_than_an_h264_speaker(
    room: Room, clip: Path, h264_clip: Path
) -> None:
    chair = Endpoint("chair", clip=clip, audio=Tone(False), audio_slots=0, video_slots=0)
    # the tablet speaks and joined before the VP8 commune: by recency alone it comes first
    tablet = Endpoint(
        "tablet", clip=h264_clip, audio=Tone(True), audio_slots=0, video_slots=0, video_codec="H264"
    )
    commune = Endpoint("xa1", clip=clip, audio=Tone(False), audio_slots=0, video_slots=0)
    viewer = Endpoint("xa-vp8", audio_slots=0, video_slots=2, video_codec="VP8")
    both = Endpoint("xa-both", audio_slots=0, video_slots=2)
    everyone = [chair, tablet, commune, viewer, both]
    try:
        await join(room, chair, chair=True)
        await join(room, tablet)
        await join(room, commune)
        await join(room, viewer)
        await join(room, both)
        people = room.participants
        await until(lambda: people["tablet"].last_spoke > 0, "the tablet is heard speaking", 30)
        await until(lambda: set(_slots(both)) == {"chair", "tablet"}, "both: chair and tablet")
        await until(lambda: set(_slots(viewer)) == {"chair", "xa1"}, "VP8 viewer: chair and xa1")
        shown = _slots(viewer)
        assert {s["codec"] for s in shown.values()} == {"VP8"}
        assert not any(s["codec_mismatch"] for s in shown.values())
        assert not any(s["codec_mismatch"] for s in _slots(both).values())
        await frames_reach(viewer, dict.fromkeys(viewer.mids("video"), VIDEO_FRAMES), "2 VP8")
        await frames_reach(both, dict.fromkeys(both.mids("video"), VIDEO_FRAMES), "VP8, H.264")
        # the VP8-only viewer was never given the tablet
        assert all(
            s["source"] != "tablet"
            for f in viewer.signals
            if f.type == "slots"
            for s in f.data["slots"]
        )
    finally:
        for ep in everyone:
            await ep.close()
