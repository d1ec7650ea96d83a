/**
 * `client.converse(options)`: resolves the options, opens the ear (a microphone of the client's, the
 * app's Microphone, or a MediaStream) with the player's output as its echo reference, and returns the
 * {@link Conversation} at once; it listens as soon as the microphone is open (`ready`).
 */
import { loadHandsFree } from '../audio/worklet-loader';
import { CaptureNode } from '../capture/capture-node';
import type { ListenSettings } from '../capture/capture-protocol';
import { Microphone, type MicrophoneOptions } from '../capture/microphone';
import type { Take } from '../capture/take';
import type { EndOfTurnSource, VadOptions } from '../capture/vad';
import { resolveBargeInOptions, type BargeInOptions } from '../dsp/near-end-detector';
import { TalStreamError } from '../errors';
import type { Reply } from '../reply';
import type { ReplyPlayer } from '../types';
import { Conversation, type ConversationInput, type ConversationSettings, type SpeechVerdict } from './conversation';
import { Listening } from './listening';

export type { BargeInOptions } from '../dsp/near-end-detector';

/** Options of `client.converse()`. */
export interface ConverseOptions {
  /**
   * The microphone: options for one the conversation opens (and closes on `stop()`), a Microphone
   * of yours (left open), a MediaStream (its tracks are left to you), or an AudioNode of the
   * client's context (e.g. a WebRTC track already in the graph). Default: the client's default
   * microphone with the browser's processing on.
   */
  microphone?: MicrophoneOptions | Microphone | MediaStream | AudioNode;
  /** `true` (default): the user may cut the answer. `false`: half-duplex, the mic is ignored while it plays. Or {@link BargeInOptions}. */
  bargeIn?: boolean | BargeInOptions;
  /**
   * Turn detection: `thresholdDb` (-45), `minSpeechMs` (60), `hangoverMs` (800), `preRollMs` (300);
   * `classify` replaces the energy decision where the echo detector hears no echo.
   */
  vad?: VadOptions;
  /** Extra header fields for every frame of every turn: an object, or one per turn index (1, 2, ...). */
  fields?: Record<string, unknown> | ((turnIndex: number) => Record<string, unknown>);
  /** The endpoint the turns are sent to. Default: the client's `url`. */
  url?: string;
  /** Typed text sent in every frame's `question`. */
  question?: string;
  /** An outside end-of-turn source (e.g. a semantic turn detector): it ends the current turn. */
  endOfTurn?: EndOfTurnSource;
  /** A turn is sent after this much audio even if the user goes on, ms. Default 60000. */
  maxDurationMs?: number;
  /** Speech this soon after a turn ended, before any answer audio, continues that turn (re-sent whole), ms. Default 1500. */
  falseEndMs?: number;
  /** talstream's own echo canceller on the player's output. Default true; false sends the mic as it comes. */
  echoCancellation?: boolean;
}

/** What the client lends a conversation. */
export interface ConverseDeps {
  sampleRate: number;
  frameMs: number;
  audioType: 'int16' | 'int32';
  workletUrl?: string;
  context(): AudioContext;
  microphone(options: MicrophoneOptions): Promise<Microphone>;
  player(): Promise<ReplyPlayer>;
  ask(take: Take, url: string | undefined): Reply;
}

const num = (name: string, v: number | undefined, dflt: number): number => {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new TalStreamError('bad-argument', `${name} must be a number >= 0, got ${String(v)}`);
  return x;
};

/** Starts a conversation (see {@link ConverseOptions}). Bad options throw `bad-argument`. */
export function converse(deps: ConverseDeps, options: ConverseOptions = {}): Conversation {
  const vad = options.vad ?? {};
  const barge = resolveBargeInOptions(typeof options.bargeIn === 'object' ? options.bargeIn : {});
  const settings: ConversationSettings = {
    bargeIn: options.bargeIn !== false,
    minSpeechMs: num('vad.minSpeechMs', vad.minSpeechMs, 60),
    bargeInRule: { minSpeechMs: barge.minSpeechMs, maxGapMs: barge.maxGapMs },
    hangoverMs: num('vad.hangoverMs', vad.hangoverMs, 800),
    preRollMs: num('vad.preRollMs', vad.preRollMs, 300),
    falseEndMs: num('falseEndMs', options.falseEndMs, 1500),
    tailMs: 300,
    maxDurationMs: num('maxDurationMs', options.maxDurationMs, 60_000),
    frameMs: options.microphone instanceof Microphone ? options.microphone.frameMs : deps.frameMs,
    audioType: deps.audioType,
    question: options.question,
    fields: options.fields,
    endOfTurn: options.endOfTurn,
  };
  if (vad.thresholdDb !== undefined && !(typeof vad.thresholdDb === 'number' && Number.isFinite(vad.thresholdDb))) {
    throw new TalStreamError('bad-argument', `vad.thresholdDb must be a number, got ${String(vad.thresholdDb)}`);
  }
  // The turn rules are loaded later (with the hands-free module): check their options now, as
  // their constructor would, so that a bad one throws here.
  resolveBargeInOptions({ frameMs: settings.frameMs, minSpeechMs: settings.minSpeechMs });
  const { frameMs: _f, minSpeechMs: _m, maxGapMs: _g, rearmMs: _r, ...detector } = barge;
  // A VAD threshold set by the app is the detector's floor: quieter frames are never speech.
  const listen: ListenSettings = { cancelEcho: options.echoCancellation !== false, detector: { ...detector, minLevelDb: vad.thresholdDb ?? barge.minLevelDb } };
  // An app's Microphone keeps its own rate; ours are made at the client's.
  const rate = options.microphone instanceof Microphone ? options.microphone.sampleRate : deps.sampleRate;
  const input = new DeferredInput(rate, vad.classify);
  // The hands-free module first (the turn rules the conversation needs before the first chunk,
  // and the worklet's listening path), then the microphone.
  const rules = Promise.resolve().then(() => loadHandsFree(deps.context(), { workletUrl: deps.workletUrl }));
  const ready = input.open(async () => {
    await rules;
    return openEar(deps, options.microphone, listen);
  });
  const url = options.url;
  const convo = new Conversation(input, (take) => deps.ask(take, url), settings, rules, ready);
  ready.catch((e: unknown) => {
    // No ear, no conversation: say why, and end it.
    convo.fail(e instanceof TalStreamError ? e : new TalStreamError('no-device', String(e), { cause: e }));
  });
  return convo;
}

async function openEar(deps: ConverseDeps, mic: ConverseOptions['microphone'], settings: ListenSettings): Promise<Listening> {
  const ctx = deps.context();
  let ear: Listening;
  if (mic instanceof Microphone) {
    ear = mic.listen();
  } else if (mic && (typeof (mic as MediaStream).getAudioTracks === 'function' || isNode(mic))) {
    if (isNode(mic) && mic.context !== ctx) throw new TalStreamError('bad-argument', "converse: the microphone node belongs to another AudioContext than the client's");
    const capture = await CaptureNode.create(ctx, { sampleRate: deps.sampleRate, frameMs: deps.frameMs, workletUrl: deps.workletUrl });
    const source = isNode(mic) ? mic : ctx.createMediaStreamSource(mic as MediaStream);
    source.connect(capture.node, 0, 0);
    ear = new Listening(capture, () => {
      // An app's node may feed others too: undo only our connection.
      if (isNode(mic)) mic.disconnect(capture.node);
      else source.disconnect();
      capture.destroy();
    });
  } else {
    const owned = await deps.microphone((mic as MicrophoneOptions | undefined) ?? {});
    try {
      ear = owned.listen();
    } catch (e) {
      owned.destroy();
      throw e;
    }
    const release = ear.destroy.bind(ear);
    ear.destroy = () => {
      release();
      owned.destroy();
    };
  }
  try {
    // The echo reference: what the player plays, where the player is talstream's (a custom
    // player without a node leaves the canceller without a reference: it then passes the mic on).
    const player = await deps.player();
    const node = (player as { node?: unknown }).node;
    if (node instanceof AudioNode && node.context === ctx) ear.setReference(node);
    await ear.start(settings);
  } catch (e) {
    ear.destroy();
    throw e;
  }
  return ear;
}

function isNode(x: unknown): x is AudioNode {
  return typeof AudioNode !== 'undefined' && x instanceof AudioNode;
}

/** The conversation's input before the microphone is open: chunks flow once it is. */
class DeferredInput implements ConversationInput {
  onChunk: ((samples: Float32Array, verdict: SpeechVerdict) => void) | null = null;
  onError: ((error: TalStreamError) => void) | null = null;
  private real: ConversationInput | null = null;
  private destroyed = false;

  constructor(
    readonly sampleRate: number,
    private readonly classify: VadOptions['classify'],
  ) {}

  async open(make: () => Promise<ConversationInput>): Promise<void> {
    const real = await make();
    if (this.destroyed) {
      real.destroy();
      return;
    }
    this.real = real;
    const classify = this.classify;
    real.onChunk = (samples, verdict) => {
      if (classify && verdict !== 'echo') {
        const d = classify(samples, this.sampleRate);
        verdict = d === true || d === 'speech' ? 'speech' : 'silence';
      }
      this.onChunk?.(samples, verdict);
    };
    real.onError = (e) => this.onError?.(e);
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.real?.destroy();
  }
}
