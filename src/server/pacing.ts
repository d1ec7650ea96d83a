// When the reference server sends each reply frame: the pacing of a TTS server (burst or real
// time) and, optionally, the delivery gaps of a bad network, drawn from a seeded model so that a
// demo run or a test can be replayed exactly. Pure code: it only computes times.

/** How fast the server produces frames: all at once (`burst`) or one frame per frame duration (`realtime`). */
export type Pace = 'burst' | 'realtime';
/** A network whose delivery gaps are imitated; `none` is plain loopback. */
export type JitterProfile = 'none' | 'wifi' | '4g' | 'congested';

export const PACES: readonly Pace[] = ['burst', 'realtime'];
export const JITTER_PROFILES: readonly JitterProfile[] = ['none', 'wifi', '4g', 'congested'];

/** Options of {@link frameSchedule}. */
export interface ScheduleOptions {
  /** Server pacing (default `realtime`). */
  pace?: Pace;
  /** Network imitation (default `none`). */
  jitter?: JitterProfile;
  /** Seed of the pseudo-random draws (default 1); the same seed gives the same schedule. */
  seed?: number;
  /** Duration of one frame in ms (default 20). */
  frameMs?: number;
}

interface NetworkModel {
  /** How many times faster than real time a burst reply crosses this link (throughput bound). */
  burstSpeed: number;
  /** Standard deviation of the per-frame delivery jitter, ms. */
  jitterMs: number;
  /** Chance, per frame, that the link stalls (retransmission, handover, queue). */
  stallChance: number;
  /** Range of a stall's length, ms. */
  stallMs: [number, number];
}

// Loosely fitted to ../shared/traces: wifi stalls up to ~180 ms, 4g up to ~570 ms, congested
// links up to ~1.4 s; burst servers arrive 2-3x faster than real time over them.
const MODELS: Record<Exclude<JitterProfile, 'none'>, NetworkModel> = {
  wifi: { burstSpeed: 3, jitterMs: 5, stallChance: 0.01, stallMs: [60, 180] },
  '4g': { burstSpeed: 3, jitterMs: 12, stallChance: 0.01, stallMs: [120, 560] },
  congested: { burstSpeed: 1.5, jitterMs: 20, stallChance: 0.012, stallMs: [250, 1400] },
};

/** mulberry32: a small, fast, seedable PRNG with good enough statistics for jitter. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Send times, in ms from the start of the reply, of `count` frames. Non-decreasing (a TCP stream
 * delivers in order: a late frame holds back the ones behind it, which then arrive in a clump).
 * `burst` without jitter sends everything at time 0.
 */
export function frameSchedule(count: number, options: ScheduleOptions = {}): number[] {
  const pace = options.pace ?? 'realtime';
  const jitter = options.jitter ?? 'none';
  const frameMs = options.frameMs ?? 20;
  const times: number[] = new Array(count);
  if (jitter === 'none') {
    for (let k = 0; k < count; k++) times[k] = pace === 'burst' ? 0 : k * frameMs;
    return times;
  }
  const model = MODELS[jitter];
  const random = seededRandom(options.seed ?? 1);
  const step = pace === 'burst' ? frameMs / model.burstSpeed : frameMs;
  let prev = 0;
  for (let k = 0; k < count; k++) {
    let t = k * step + Math.abs(gaussian(random)) * model.jitterMs;
    // The first frame opens the reply: keep it at 0 so the gaps, not a constant offset, show.
    if (k > 0 && random() < model.stallChance) {
      const [lo, hi] = model.stallMs;
      t += lo + random() * (hi - lo);
    }
    if (k === 0) t = 0;
    prev = Math.max(prev, t);
    times[k] = Math.round(prev * 1000) / 1000;
  }
  return times;
}

/** A standard normal draw (Box-Muller). */
function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Parses a `?pace=` value; throws a message for anything else. */
export function parsePace(value: string | null | undefined, fallback: Pace = 'realtime'): Pace {
  if (value === null || value === undefined || value === '') return fallback;
  if ((PACES as readonly string[]).includes(value)) return value as Pace;
  throw new Error(`pace must be one of ${PACES.join(', ')} (got ${JSON.stringify(value)})`);
}

/** Parses a `?jitter=` value; throws a message for anything else. */
export function parseJitter(value: string | null | undefined): JitterProfile {
  if (value === null || value === undefined || value === '') return 'none';
  if ((JITTER_PROFILES as readonly string[]).includes(value)) return value as JitterProfile;
  throw new Error(`jitter must be one of ${JITTER_PROFILES.join(', ')} (got ${JSON.stringify(value)})`);
}
