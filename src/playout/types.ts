/**
 * Public types of the playout core, the simulator and the Player.
 */

/** Where playback of a reply stopped: which frame, how far into it, how much in total. */
export interface PlayedPosition {
  /** `order` of the frame being heard last; 0 when nothing of the reply was played. */
  order: number;
  /** Samples of that frame that were heard, counted at the frame's own sample rate. */
  sampleOffset: number;
  /** Milliseconds of the reply's audio that were played (fade-outs included). */
  playedMs: number;
}

/** What the playout is doing now. `draining`: the reply has ended and its queue is playing out. */
export type PlayoutState = 'idle' | 'buffering' | 'playing' | 'underrun' | 'draining';

/** Live statistics of a playout core (and of the Player, which mirrors them). */
export interface PlayerStats {
  /** Audio queued and not yet played, in ms (current reply and any queued after it). */
  bufferedMs: number;
  /** The depth the policy keeps the buffer at (time-scaling toward it), in ms. */
  targetMs: number;
  /** The playback rate of the last render quantum (1 when not time-scaled). */
  rate: number;
  /** Underruns since the core was created (all replies of the session). */
  underruns: number;
  /** Total silence caused by underruns, in ms. */
  underrunMs: number;
  /** Audio played since the core was created, in ms. */
  playedMs: number;
  /** What the playout is doing. */
  state: PlayoutState;
}

/**
 * How the playout decides when to start and resume.
 * - `'adaptive'` (default): learned from the arrival jitter measured over the session.
 * - `'on-arrival'`: start and resume as soon as any audio is queued (what most players do).
 * - `{ prebufferMs }`: start and resume once that much audio is queued (a fixed prebuffer).
 * - `{ fixedStartMs }`: start that many ms after the reply's first frame arrived; resume as soon as
 *   audio is queued again.
 */
export type PlayoutPolicy = 'adaptive' | 'on-arrival' | { prebufferMs: number } | { fixedStartMs: number };

/** Tuning of the adaptive jitter buffer. The defaults need no tuning per network. */
export interface JitterOptions {
  /** Start/resume policy. Default `'adaptive'`. */
  policy?: PlayoutPolicy;
  /** Depth used before anything was learned, in ms. Default 150. */
  initialTargetMs?: number;
  /** Smallest depth the adaptive policy uses, in ms. Default 20. */
  minTargetMs?: number;
  /**
   * Largest depth the adaptive policy uses (learned or grown within a reply), in ms. A stall longer
   * than this is treated as an outage: it plays as an underrun rather than being paid for with a
   * deeper start on every reply. Default 1000.
   */
  maxTargetMs?: number;
  /**
   * What one underrun per minute of audio is worth in ms of added depth when the adaptive policy
   * weighs delay against underruns. Default 225 (time-scaling gives back much of the delay a deeper
   * target costs), 150 with `timeScale: false`.
   */
  underrunCostMs?: number;
  /** Replies of the session kept for learning. Default 8. */
  historyReplies?: number;
  /** Factor the depth grows by after each underrun within a reply. Default 1.2. */
  underrunGrowth?: number;
  /**
   * Widening of the learned depth while little is known: depth * (1 + margin / n) after n replies
   * of the session were learned. Default 0.5.
   */
  learningMargin?: number;
  /**
   * Half-width, in steps of 8%, of the smoothing of counterfactual underrun counts over
   * neighbouring depths. Default 0 (none).
   */
  smoothing?: number;
  /** Quantile of inter-arrival gaps the depth never goes below. Default 0.99. */
  gapQuantile?: number;
  /**
   * Time-scaling (adaptive policy only): play at 0.9..1.1x, pitch kept, so the buffer moves toward
   * its target while the audio plays. `false`: the stop-and-wait policy (start at the target, rate 1).
   * Default true: measured on the shared traces it halves paced replies' start delay and beats the
   * best fixed buffer by 20% on all 12 traces (README, playback policy).
   */
  timeScale?: boolean;
  /** Slowest rate the adaptive policy plays at (>= 0.5). Default 0.9. */
  minRate?: number;
  /** Fastest rate the adaptive policy plays at (<= 1.5). Default 1.1. */
  maxRate?: number;
  /**
   * Fraction of the target depth queued at which a reply starts or resumes when time-scaling (if
   * that much also outlasts the link's gap floor at `minRate`): the rest of the cushion is grown by
   * playing slower. Default 0.4.
   */
  startFraction?: number;
  /**
   * When time-scaling, an early start (and resume) also waits for at most this fraction of the
   * depth the stop-and-wait policy (`timeScale: false`) would learn from the same replies: the
   * time-scaled target weighs an underrun more (`underrunCostMs` 225 against 150), so a fraction
   * of it alone can be more than half the wait it replaces. The gap floor still applies. Default 0.5.
   */
  startCap?: number;
  /**
   * Where the gap floor holds a paced reply's start back (it asks for more than `startFraction`
   * and `startCap` do), the reply starts anyway once this fraction of the time stop-and-wait took
   * to queue its depth (median over the recent replies) has passed, if the link is flowing (a
   * frame arrived within the last 45 ms; not in the middle of a stall). Paced: the recent replies
   * arrived at under 1.3x real time; a burst server keeps the floor. 0 or less, NaN: never.
   * Default 0.4.
   */
  startDeadline?: number;
  /** Rate change per unit of relative depth (or delay) error beyond the dead band. Default 0.5. */
  rateSlope?: number;
  /** Relative error ((buffered - target) / target) within which the rate stays 1. Default 0.05. */
  rateBand?: number;
  /** After a reply's last frame, play at `maxRate` while it runs later than this, ms. Default 20. */
  endLagMs?: number;
  /**
   * Speeding up gives back only the delay above `lateHold` x the most a frame of the reply has
   * arrived late so far (and above the target): after a stall the cushion it left is kept for the
   * rest of the reply, against the next stall. 0: back to the target. Default 0.9.
   */
  lateHold?: number;
  /**
   * Keeps what the adaptive policy learned across visits: a `localStorage` key, or a `get`/`set`
   * pair (any storage). A returning visitor starts from the last visit's arrivals instead of the
   * cold default. Saved after every reply. Default: none.
   */
  persist?: string | JitterStore;
}

/** Storage for {@link JitterOptions.persist}: `get` returns what `set` was given (or null). */
export interface JitterStore {
  get(): JitterMemory | string | null | undefined;
  set(memory: JitterMemory): void;
}

/**
 * What the adaptive policy learned, as plain JSON: the arrivals of the last replies (ms after each
 * reply's first frame, and audio ms per frame), the inter-arrival gap histogram, and how many replies
 * taught it.
 */
export interface JitterMemory {
  /** Format version (1). */
  v: number;
  /** Replies learned from over the session(s). */
  replies: number;
  /** Per recorded reply: arrival times (ms, 0.1 ms resolution) and audio per frame (ms). */
  history: { at: number[]; ms: number[] }[];
  /** Gap histogram: [bin, weight] pairs of its non-empty 5 ms bins. */
  gaps: [number, number][];
}

/** One frame handed to the playout: planar channels at the frame's own rate. */
export interface PlayoutFrame {
  /** One Float32Array per channel, all of the same length. */
  channels: Float32Array[];
  /** The frame's sample rate in Hz. */
  sampleRate: number;
  /** The frame's `order` within its reply. */
  order: number;
}

/** A streaming sample-rate converter for one channel (talstream's `Resampler` has this shape). */
export interface ChannelResampler {
  /** Converts the next input block; returns the output it completes. */
  process(input: Float32Array): Float32Array;
  /** Ends the stream and returns the held-back tail. */
  flush(): Float32Array;
}

/** Makes one resampler per output channel. */
export type ResamplerFactory = (fromRate: number, toRate: number) => ChannelResampler;

/** Kinds of events a playout core queues for its driver. */
export type PlayoutEventType = 'audio-start' | 'underrun' | 'resume' | 'ended';

/** One event, filled into a caller-owned record so that polling allocates nothing. */
export interface PlayoutEventRecord {
  /** What happened. */
  type: PlayoutEventType;
  /** The reply it happened to (the id given to the core with its frames). */
  replyId: number;
  /** Index of the sample, inside the render quantum that raised it, where the event happened. */
  atSample: number;
  /** For `ended`: the final position: `order` of the frame heard last (see {@link PlayedPosition}). */
  order: number;
  /** For `ended`: samples of that frame that were heard, at the frame's own rate. */
  sampleOffset: number;
  /** For `ended`: ms of the reply's audio that were played. */
  playedMs: number;
  /** For `ended`: underruns during this reply. */
  underruns: number;
  /** For `ended`: true when the reply was interrupted rather than played out. */
  interrupted: boolean;
  /** For `ended`: slowest and fastest rate the reply played at (1 when not time-scaled). */
  minRate: number;
  maxRate: number;
}

/** Options of a {@link PlayoutCore}. */
export interface PlayoutCoreOptions {
  /** Output sample rate in Hz (the AudioContext's rate). */
  sampleRate: number;
  /** Output channels, 1 or 2. Default 1. */
  channels?: 1 | 2;
  /** Jitter buffer policy and tuning. */
  jitter?: JitterOptions;
  /** Length of start/resume/underrun fades in ms. Default 5. */
  fadeMs?: number;
  /** Length of the interrupt fade-out in ms (at most 10). Default 8. */
  interruptFadeMs?: number;
  /** Makes a one-channel resampler; default talstream's `Resampler` (windowed sinc). */
  createResampler?: ResamplerFactory;
  /** Most audio queued over all replies, in ms; frames beyond it are refused. Default 600000 (10 min). */
  maxQueuedMs?: number;
  /** Initial volume (linear gain). Default 1. */
  volume?: number;
  /** What a previous visit learned (the worklet gets it from the Player's `jitter.persist`). */
  memory?: JitterMemory | null;
}
