// Synthetic arrival traces in the format of ../shared/traces (20 ms frames at 24 kHz), for checking
// that the playout policy generalises beyond the six shared files. A crude model on purpose, with
// its own numbers: a server that is paced (real time) or bursty (faster, in chunks), then a link
// with per-frame jitter and occasional stalls that hold frames and release them together (TCP).

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NETWORKS = {
  wifi: { jitterMs: 6, stallPerS: 0.04, stallMs: 120 },
  '4g': { jitterMs: 18, stallPerS: 0.08, stallMs: 220 },
  congested: { jitterMs: 50, stallPerS: 0.15, stallMs: 500 },
};
const SERVERS = { burst: { speed: [2.5, 3.5], chunk: 8 }, paced: { speed: [1, 1], chunk: 1 } };

/** kind: '<wifi|4g|congested>-<burst|paced>'; 20 replies of 10-30 s. */
export function syntheticTrace(kind, seed, replies = 20) {
  const [net, srv] = kind.split('-');
  const n = NETWORKS[net];
  const s = SERVERS[srv];
  const rnd = mulberry32(seed * 7919 + kind.length);
  const exp = (mean) => -Math.log(1 - rnd()) * mean;
  const out = [];
  for (let r = 0; r < replies; r++) {
    const frames = Math.round((10 + rnd() * 20) * 50);
    const speed = s.speed[0] + rnd() * (s.speed[1] - s.speed[0]);
    const arrivals = [];
    let last = 0;
    let stallUntil = 0;
    let first = null;
    for (let k = 0; k < frames; k++) {
      const sent = srv === 'burst' ? Math.floor(k / s.chunk) * s.chunk * (20 / speed) + exp(15) : k * 20;
      // A stall starting near this frame's send time holds it (and everything sent before the end).
      if (rnd() < n.stallPerS * 0.02 * (srv === 'burst' ? 1 / speed : 1)) stallUntil = Math.max(stallUntil, sent + exp(n.stallMs) * (rnd() < 0.15 ? 3 : 1));
      let at = sent + exp(n.jitterMs);
      if (at < stallUntil) at = stallUntil + exp(n.jitterMs / 2);
      at = Math.max(at, last);
      last = at;
      if (first === null) first = at;
      arrivals.push({ atMs: Math.round((at - first) * 1000) / 1000, samples: 480 });
    }
    out.push({ arrivals });
  }
  return { name: `synthetic-${kind}`, sampleRate: 24000, frameMs: 20, seed, replies: out };
}
