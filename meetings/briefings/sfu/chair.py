"""The chair's controls of a briefing's room: the floor, mutes, hands, the hall recording, the end.

Each control changes this worker's room, writes the fields it changed to the shared copy (the
other workers take them from there, :mod:`.shared`) and tells the participants.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

from meetings.briefings.messages import server_frame
from meetings.briefings.sfu import wall
from meetings.briefings.sfu.participant import Participant
from meetings.briefings.sfu.recorder import HallRecorder
from meetings.briefings.sfu.roster import Roster


class ChairedRoom(Roster):
    """A room with the chair's controls (and a participant's own mutes and hand)."""

    def mute(self, target: str) -> None:
        p = self.participants.get(target)
        if p is None:
            return
        p.muted_by_chair = True
        p.send(server_frame("muted", by="chair"))
        if self.writer is not None:
            self.writer.fields(target, muted_by_chair=True)
        self.reassign()
        self.announce()

    def mute_all(self) -> None:
        for p in self.participants.values():
            if not p.chair:
                p.muted_by_chair = True
                p.send(server_frame("muted", by="chair"))
        if self.writer is not None:
            self.writer.everyone(except_chair=True, muted_by_chair=True)
        self.reassign()
        self.announce()

    def give_floor(self, target: str | None) -> None:
        """Spotlight (trao quyền phát biểu): seen and heard by all, unmuted, hand lowered."""
        self.spotlight = target if target in self.participants else None
        if self.writer is not None:
            self.writer.room(spotlight=self.spotlight)
        if self.spotlight is not None:
            p = self.participants[self.spotlight]
            p.hand = False
            p.muted_by_chair = False
            p.send(server_frame("floor"))
            if self.writer is not None:
                self.writer.fields(p.id, hand=False, muted_by_chair=False)
        self.reassign()
        self.broadcast(server_frame("spotlight", id=self.spotlight))
        self.announce()

    def set_wall(self, target: str, on: bool) -> bool:
        """Make ``target`` the hall's wall (its video slots page through the communes) or an
        ordinary participant again; it is told with a ``wall`` frame.  A target this worker
        does not know yet (it joined on another worker a moment ago) is taken as given; False
        when there are :data:`~.wall.MAX_WALLS` walls already."""
        if on and target not in self.walls:
            if len(self.walls) >= wall.MAX_WALLS:
                return False
            self.walls[target] = None
        elif not on:
            self.walls.pop(target, None)
        p = self.participants.get(target)
        if p is not None:
            p.send(server_frame("wall", on=on))
        if self.writer is not None:  # the worker hosting the wall learns it from the shared copy
            self.writer.room(walls=json.dumps(sorted(self.walls)))
        self.reassign()
        return True

    def set_wall_page(self, page: int) -> None:
        """The page the walls show, clamped to the last page of the smallest wall hosted here
        (a wall of another worker is clamped there, when it fills)."""
        sizes = [s.size for s in self.walls.values() if s is not None]
        if sizes:
            entries = wall.communes(self.participants.values(), self.invited, self.walls)
            page = wall.page_of(entries, page, min(sizes))[0]
        self.wall_page = page
        if self.writer is not None:
            self.writer.room(wall_page=self.wall_page)
        self.refresh_walls()

    def lower_hands(self) -> None:
        for p in self.participants.values():
            p.hand = False
        if self.writer is not None:
            self.writer.everyone(hand=False)
        self.announce()

    def set_self_mute(self, p: Participant, audio: bool, video: bool) -> None:
        was_muted = p.muted_by_chair
        heard = not p.audio_muted and not p.muted_by_chair
        p.audio_muted, p.video_muted = audio, video
        if not audio:
            p.muted_by_chair = False
        if heard != (not audio):
            self.reassign()  # a muted microphone is forwarded to nobody
        if self.writer is not None:
            self.writer.fields(
                p.id,
                audio_muted=audio,
                video_muted=video,
                muted_by_chair=p.muted_by_chair and was_muted,
            )
        self.announce()

    def set_hand(self, p: Participant, raised: bool) -> None:
        p.hand = raised
        if self.writer is not None:
            self.writer.fields(p.id, hand=raised)
        self.announce()

    async def end(self) -> None:
        if self.ended:
            return
        self.ended = True
        if self.writer is not None:
            self.writer.room(ended=True)
        await self.stop_recording()
        self.broadcast(server_frame("ended"))
        for p in list(self.participants.values()):
            self.drop_peer(p)
        self._stop_ticker()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    # -- recording ---------------------------------------------------------------------------

    def start_recording(self) -> Path | None:
        """Record the chair's audio and video (the hall stream) to WebM or Matroska; its path."""
        if self.recordings is None:
            return None
        self.recording = True
        if self.writer is not None:
            self.writer.room(recording=True)
        return self._record_chair()

    def _record_chair(self) -> Path | None:
        self._stop_recorder()
        chair = self._chair()
        if self.recordings is None or chair is None or chair.peer is None:
            return None
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = self.recordings / f"hall-{stamp}-{chair.peer.owner}.webm"
        video = chair.peer.source("video")
        recorder = HallRecorder(path, video.codec if video else "VP8")  # H.264: .mkv
        for source in chair.peer.sources.values():
            source.taps.append(recorder.tap(source.kind))
            if source.kind == "video":
                source.request_keyframe()  # browsers send key frames only when asked
        self.recorder = recorder
        self.broadcast(server_frame("recording", on=True))
        return recorder.path

    async def stop_recording(self) -> Path | None:
        if self.recording and self.writer is not None:
            self.writer.room(recording=False)
        self.recording = False
        recorder = self._stop_recorder()
        if recorder is None:
            return None
        await asyncio.get_running_loop().run_in_executor(None, recorder.stop)
        self.broadcast(server_frame("recording", on=False))
        return recorder.path

    def _stop_recorder(self) -> HallRecorder | None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return None
        for p in self.participants.values():
            for source in p.peer.sources.values() if p.peer else ():
                source.taps = [
                    t for t in source.taps if getattr(t, "recorder", None) is not recorder
                ]
        if self.recording:  # a rejoin: finish the old file in the background
            threading.Thread(target=recorder.stop, daemon=True).start()
        return recorder
