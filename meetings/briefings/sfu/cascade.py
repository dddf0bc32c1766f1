"""Cascade along the administrative tree: a district node relays the province hall to its communes.

A :class:`RelayPeer` is the district node's one subscription to the province room: it offers
receiving slots like any endpoint, takes the province's SRTP at the ICE datagram callback, and
feeds the plain packets into local :class:`~.forwarder.Source`\\ s, which a participant of the
district room publishes (as the chair: first on every wall).  One copy crosses the
province→district link whatever the number of communes.  Key-frame requests and NACKs from the
communes go upstream as RTCP on that link, and the province relays them to the chair.  The
province already rewrote sequence numbers and timestamps per slot, so a switch of speaker upstream
arrives as one continuous stream.
"""

from __future__ import annotations

from aiortc import RTCRtpReceiver, RTCSessionDescription

from meetings.briefings.sfu import hooks
from meetings.briefings.sfu.forwarder import Source
from meetings.briefings.sfu.peer import OfferRefused, ServerPeer


class RelayPeer(ServerPeer):
    """The downstream side of a cascade link: an offerer whose received media is republished."""

    async def offer(self, audio_slots: int = 1, video_slots: int = 1) -> str:
        """The offer to send to the upstream room (as an endpoint's ``offer`` frame)."""
        for _ in range(audio_slots):
            self.pc.addTransceiver("audio", direction="recvonly")
        capabilities = RTCRtpReceiver.getCapabilities("video")
        vp8 = [c for c in capabilities.codecs if c.name == "VP8"] if capabilities else []
        for _ in range(video_slots):
            # One codec per relayed source: the link republishes what arrives as one VP8 stream
            # (an H.264 hall upstream shows the relay's slot as a codec mismatch there).
            self.pc.addTransceiver("video", direction="recvonly").setCodecPreferences(vp8)
        for t in self.pc.getTransceivers():
            hooks.without_decoder(t.receiver)
            hooks.without_bitrate_estimator(t.receiver)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        local = self.pc.localDescription
        assert local is not None
        return str(local.sdp)

    async def accept(self, offer_sdp: str) -> str:
        raise OfferRefused("a relay offers; it does not answer")

    async def answered(self, answer_sdp: str) -> None:
        """Apply the upstream answer and start republishing what arrives."""
        pc = self.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer_sdp, type="answer"))
        transports = {t.receiver.transport for t in pc.getTransceivers()}
        if len(transports) != 1:
            raise OfferRefused("the upstream answer must bundle every m-line")
        self._dtls = transports.pop()
        for t in pc.getTransceivers():
            codec = t._codecs[0] if t._codecs else None
            if codec is None or codec.payloadType is None:
                raise OfferRefused(f"no {t.kind} codec in the upstream answer")
            if codec.payloadType not in self.sources:
                self.sources[codec.payloadType] = Source(
                    self.owner,
                    t.kind or "",
                    codec.clockRate,
                    None,
                    self._keyframe_request,
                    self._nack,
                )
        self._receivers = {t.kind: t.receiver for t in pc.getTransceivers() if t.kind}
        hooks.intercept_datagrams(self._dtls, self._datagram)
        self._dtls.on("statechange", self._dtls_state)
        pc.on("connectionstatechange", self._pc_state)
