"""The selective forwarding unit: aiortc for ICE, DTLS, SRTP and RTCP; our own RTP forwarding.

aiortc's receive path always decodes and its senders always encode; neither suits forwarding one
publisher to a hundred halls.  So a publisher's SRTP datagrams are taken at the ICE datagram
callback (:mod:`.hooks`), unprotected once, and the plain bytes go to each subscriber slot with
its SSRC, sequence number and timestamp patched and SRTP re-applied in place (:mod:`.forwarder`).
STUN, DTLS and SRTCP keep aiortc's normal path; subscribers' RTCP (NACK, PLI, FIR, receiver
reports) reaches our handlers through the server-side senders.  :mod:`.room` holds a briefing's
room; :mod:`.selection` decides who is seen and heard (chair, spotlight, last-N by voice
activity).
"""
