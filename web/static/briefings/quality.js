// Video briefings: the weak-network decision, a pure module (no DOM, no WebRTC objects).
// room.js reads RTCPeerConnection.getStats() every few seconds, turns the report into counters
// (countersOf), the difference of two readings into a sample (sampleOf), and feeds the samples
// to a monitor (createMonitor) that says whether the link is weak and why: "loss", "delay" or
// "bandwidth". The tests feed synthetic samples to the same functions.
//
// Why a window and hysteresis: one bad reading (a burst of loss, the first RTT measured while
// the link warms up, the bandwidth estimate that starts low and ramps) must not switch the room
// to the weak state; the median over a few seconds must be bad for ENTER_MS before it is entered,
// and good for LEAVE_MS (longer) before it is left.

export const LIMITS = {
  loss: 0.08, // fraction of packets lost, in or out
  rtt: 0.6, // seconds, candidate pair's current round-trip time
  bitrate: 150_000, // bit/s, the sender's available outgoing bitrate (bandwidth estimate)
};
export const WINDOW_MS = 6000; // samples considered together (their median)
export const MIN_SAMPLES = 3; // fewer samples in the window: no judgement yet
export const ENTER_MS = 4000; // bad for this long before the weak state is entered
export const LEAVE_MS = 10000; // clear for this long before it is left
export const WARMUP_MS = 10000; // the bandwidth estimate counts only this long after connecting

/** The cumulative counters of one getStats() report (any iterable of stats objects). */
export function countersOf(report) {
  const c = { inLost: 0, inReceived: 0, outLost: 0, outSent: 0, rtt: null, bitrate: null };
  let pairId = null;
  const pairs = new Map();
  for (const s of report) {
    if (s.type === "inbound-rtp") {
      c.inLost += Math.max(0, s.packetsLost || 0);
      c.inReceived += s.packetsReceived || 0;
    } else if (s.type === "outbound-rtp") {
      c.outSent += s.packetsSent || 0;
    } else if (s.type === "remote-inbound-rtp") {
      c.outLost += Math.max(0, s.packetsLost || 0);
    } else if (s.type === "transport" && s.selectedCandidatePairId) {
      pairId = s.selectedCandidatePairId;
    } else if (s.type === "candidate-pair") {
      pairs.set(s.id, s);
    }
  }
  let pair = pairId ? pairs.get(pairId) : null;
  if (!pair) pair = [...pairs.values()].find((p) => p.nominated && p.state === "succeeded");
  if (pair) {
    if (pair.currentRoundTripTime != null) c.rtt = pair.currentRoundTripTime;
    if (pair.availableOutgoingBitrate != null) c.bitrate = pair.availableOutgoingBitrate;
  }
  return c;
}

function fraction(lost, total) {
  return lost > 0 && total > 0 ? Math.min(1, lost / total) : 0;
}

/** One sample from two readings of the same connection: loss over the interval, not since start. */
export function sampleOf(prev, cur, t, sinceConnected) {
  const inLost = cur.inLost - prev.inLost;
  const inReceived = cur.inReceived - prev.inReceived;
  const outLost = cur.outLost - prev.outLost;
  const outSent = cur.outSent - prev.outSent;
  return {
    t,
    lossIn: fraction(Math.max(0, inLost), Math.max(0, inLost) + Math.max(0, inReceived)),
    lossOut: fraction(Math.max(0, outLost), Math.max(0, outSent)),
    rtt: cur.rtt,
    // the estimate starts low and ramps up: not a measurement until the warm-up is over
    bitrate: sinceConnected >= WARMUP_MS ? cur.bitrate : null,
  };
}

function median(values) {
  const v = values.filter((x) => x != null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/** What is wrong with the window (medians): "loss", "delay", "bandwidth", or null. */
export function judge(samples, limits = LIMITS) {
  if (samples.length < MIN_SAMPLES) return null;
  const loss = median(samples.map((s) => Math.max(s.lossIn, s.lossOut)));
  if (loss != null && loss > limits.loss) return "loss";
  const rtt = median(samples.map((s) => s.rtt));
  if (rtt != null && rtt > limits.rtt) return "delay";
  const bitrate = median(samples.map((s) => s.bitrate));
  if (bitrate != null && bitrate < limits.bitrate) return "bandwidth";
  return null;
}

/** The level for the little quality dot: "good", "fair" or "poor" (no hysteresis). */
export function levelOf(samples, limits = LIMITS) {
  if (!samples.length) return "unknown";
  if (judge(samples, limits)) return "poor";
  const half = { loss: limits.loss / 4, rtt: limits.rtt / 2.4, bitrate: limits.bitrate * 2 };
  return judge(samples, half) ? "fair" : "good";
}

/**
 * A monitor of one connection. push(sample) returns {weak, reason, changed}: changed is true on
 * the sample that enters or leaves the weak state.
 */
export function createMonitor(opts = {}) {
  const o = { windowMs: WINDOW_MS, enterMs: ENTER_MS, leaveMs: LEAVE_MS, limits: LIMITS, ...opts };
  const m = { samples: [], weak: false, reason: null, badSince: null, clearSince: null, level: "unknown" };
  function push(sample) {
    m.samples.push(sample);
    while (m.samples.length && sample.t - m.samples[0].t > o.windowMs) m.samples.shift();
    const bad = judge(m.samples, o.limits);
    m.level = levelOf(m.samples, o.limits);
    let changed = false;
    if (bad) {
      m.clearSince = null;
      if (m.badSince === null) m.badSince = sample.t;
      if (m.weak) {
        m.reason = bad;
      } else if (sample.t - m.badSince >= o.enterMs) {
        m.weak = changed = true;
        m.reason = bad;
      }
    } else {
      m.badSince = null;
      if (m.clearSince === null) m.clearSince = sample.t;
      if (m.weak && sample.t - m.clearSince >= o.leaveMs) {
        m.weak = false;
        m.reason = null;
        changed = true;
      }
    }
    return { weak: m.weak, reason: m.reason, changed, level: m.level };
  }
  return { push, state: m };
}
