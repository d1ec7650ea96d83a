// The Conversation's wiring logic without audio: a scripted capture (chunks whose samples name
// their index, with a verdict each) and a stand-in for ask()/Reply that records what was sent.
// This runs no Web Audio and no Player (those are tested in the browser suites); it checks which
// audio each turn's upload holds, when, and the `interrupted` field, against the script.
import { describe, expect, it } from 'vitest';
import type { Take } from '../../src/capture/take';
import { Conversation, type ConversationInput, type ConversationSettings, type SpeechVerdict } from '../../src/conversation/conversation';
import { TurnTaking } from '../../src/conversation/turn-taking';
import { TalStreamError } from '../../src/errors';
import { FrameDecoder } from '../../src/protocol/frame-decoder';
import { readTalAudio } from '../../src/protocol/tal-audio';
import type { Reply } from '../../src/reply';
import type { PlayedPosition } from '../../src/types';

const RATE = 1000; // 20 samples per 20 ms chunk: one chunk is one frame
const SETTINGS: ConversationSettings = {
  bargeIn: true,
  minSpeechMs: 60,
  bargeInRule: { minSpeechMs: 150, maxGapMs: 0 },
  hangoverMs: 400,
  preRollMs: 100,
  falseEndMs: 1000,
  tailMs: 300,
  maxDurationMs: 60_000,
  frameMs: 20,
  audioType: 'int16',
};

class ScriptInput implements ConversationInput {
  readonly sampleRate = RATE;
  onChunk: ((samples: Float32Array, verdict: SpeechVerdict) => void) | null = null;
  onError = null;
  destroyed = 0;
  next = 0;
  /** Sends chunks [next, to) with one verdict; chunk k's samples are all (k + 1) / 1000. */
  send(to: number, verdict: SpeechVerdict): void {
    for (; this.next < to; this.next++) this.onChunk?.(new Float32Array(20).fill((this.next + 1) / 1000), verdict);
  }
  destroy(): void {
    this.destroyed++;
  }
}

class FakeReply {
  private listeners = new Map<string, (() => void)[]>();
  private resolve!: () => void;
  readonly done = new Promise<void>((r) => (this.resolve = r));
  interrupted = false;
  constructor(readonly position: PlayedPosition) {}
  on(type: string, fn: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
    return () => {};
  }
  audioStart() {
    for (const fn of this.listeners.get('audio-start') ?? []) fn();
  }
  end() {
    this.resolve();
  }
  interrupt() {
    this.interrupted = true;
    this.resolve();
    return Promise.resolve(this.position);
  }
}

/** The chunk indexes a take's frames hold, and its frames' extra header fields. */
async function read(take: Take): Promise<{ chunks: number[]; headers: Record<string, unknown>[] }> {
  const dec = new FrameDecoder();
  const chunks: number[] = [];
  const headers: Record<string, unknown>[] = [];
  for await (const bytes of take) {
    for (const f of dec.push(bytes)) {
      const { header, channels } = readTalAudio(f);
      headers.push(header as Record<string, unknown>);
      const x = channels[0]!;
      if (x.length === 0) continue;
      expect(x.length).toBe(20);
      const k = Math.round(x[0]! * 1000) - 1;
      for (const v of x) expect(Math.round(v * 1000) - 1).toBe(k);
      chunks.push(k);
    }
  }
  return { chunks, headers };
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Conversation (scripted capture, stand-in replies)', () => {
  it('pre-roll, a false end of turn re-sent whole, echo ignored, a barge-in with interrupted in the next first frame', async () => {
    const input = new ScriptInput();
    const replies: FakeReply[] = [];
    const positions = [
      { order: 0, sampleOffset: 0, playedMs: 0 },
      { order: 7, sampleOffset: 100, playedMs: 1234 },
      { order: 0, sampleOffset: 0, playedMs: 0 },
    ];
    const convo = new Conversation(
      input,
      () => {
        const r = new FakeReply(positions[replies.length] ?? positions[0]!);
        replies.push(r);
        return r as unknown as Reply;
      },
      { ...SETTINGS, fields: (i) => ({ turn: i }) },
      TurnTaking,
    );
    const log: string[] = [];
    const turns: { index: number; take: Take }[] = [];
    convo.on('state', (e) => log.push(`${e.previous}->${e.state}`));
    convo.on('turn', (e) => turns.push(e));
    convo.on('barge-in', (e) => log.push(`barge-in ${e.position.order}/${e.position.sampleOffset} at ${e.atMs} onset ${e.onsetMs}`));

    input.send(10, 'silence'); // 0..199 ms
    input.send(30, 'speech'); // speech from 200 ms: confirmed after 60 ms (chunk 12)
    expect(convo.state).toBe('user-speaking');
    input.send(50, 'silence'); // 400 ms of silence: the turn ends on chunk 49
    expect(convo.state).toBe('thinking');
    input.send(60, 'silence');
    input.send(80, 'speech'); // onset 1200 ms <= end (1000) + falseEndMs: the turn goes on (confirmed on chunk 67)
    expect(replies[0]!.interrupted).toBe(true);
    input.send(100, 'silence'); // ends on chunk 99
    expect(convo.state).toBe('thinking');
    replies[1]!.audioStart();
    expect(convo.state).toBe('speaking');
    input.send(150, 'echo'); // the answer's echo: no barge-in
    expect(convo.state).toBe('speaking');
    input.send(158, 'speech'); // onset 3000 ms, 150 ms later (chunk 157): barge-in
    expect(convo.state).toBe('user-speaking');
    expect(replies[1]!.interrupted).toBe(true);
    await tick(); // the fade's position comes back; the new turn is sent with it
    input.send(190, 'speech');
    input.send(210, 'silence'); // ends on chunk 209
    expect(convo.state).toBe('thinking');
    await tick();

    expect(log).toEqual([
      'listening->user-speaking',
      'user-speaking->thinking',
      'thinking->user-speaking',
      'user-speaking->thinking',
      'thinking->speaking',
      'speaking->user-speaking',
      'barge-in 7/100 at 3160 onset 3000',
      'user-speaking->thinking',
    ]);
    expect(turns.map((t) => t.index)).toEqual([1, 1, 2]);
    const [first, again, cut] = await Promise.all(turns.map((t) => read(t.take)));
    // Pre-roll: from 100 ms before the onset at 200 ms, to the chunk that ended the turn.
    expect(first!.chunks).toEqual(range(5, 49));
    // Sent again whole: from the pre-roll through the pause to the end of the second stretch.
    expect(again!.chunks).toEqual(range(5, 99));
    expect(again!.headers.every((h) => h.turn === 1 && h.interrupted === undefined)).toBe(true);
    // The barge-in turn: from the pre-roll plus twice the rule's 150 ms before the onset (3000 ms,
    // chunk 150): 400 ms, chunk 130; the masked first syllable is reached, older echo is not.
    expect(cut!.chunks).toEqual(range(130, 209));
    expect(cut!.headers[0]!.interrupted).toEqual({ order: 7, sampleOffset: 100, playedMs: 1234 });
    expect(cut!.headers.slice(1).every((h) => h.interrupted === undefined && h.turn === 2)).toBe(true);
    expect(cut!.headers.at(-1)!.sign).toBe(3);

    await convo.stop();
    expect(convo.state).toBe('stopped');
    expect(input.destroyed).toBe(1);
    expect(replies[2]!.interrupted).toBe(true); // stop cuts the pending answer
    await convo.stop();
    expect(input.destroyed).toBe(1);
  });

  it('bargeIn false: speech over the answer is not a turn; after the answer and its tail it is', async () => {
    const input = new ScriptInput();
    const replies: FakeReply[] = [];
    const convo = new Conversation(
      input,
      () => {
        const r = new FakeReply({ order: 0, sampleOffset: 0, playedMs: 0 });
        replies.push(r);
        return r as unknown as Reply;
      },
      { ...SETTINGS, bargeIn: false },
      TurnTaking,
    );
    const turns: Take[] = [];
    convo.on('turn', (e) => turns.push(e.take));
    input.send(5, 'speech');
    input.send(25, 'silence');
    replies[0]!.audioStart();
    input.send(60, 'speech'); // over the answer
    expect(convo.state).toBe('speaking');
    expect(turns.length).toBe(1);
    replies[0]!.end();
    await tick();
    expect(convo.state).toBe('listening');
    input.send(70, 'silence');
    input.send(80, 'speech'); // onset 1400 ms: the answer ended at 1200 ms, + 300 ms tail: still its echo
    expect(convo.state).toBe('listening');
    input.send(90, 'silence');
    input.send(100, 'speech'); // onset 1800 ms: a turn
    expect(convo.state).toBe('user-speaking');
    expect(turns.length).toBe(2);
    await convo.stop();
  });
});

describe('Conversation with its turn rules still loading (the hands-free module)', () => {
  it('its state is the turn machine from the start: pause and resume act before the rules arrive; once they have, chunks make turns', async () => {
    const input = new ScriptInput();
    let arrive!: (r: typeof TurnTaking) => void;
    const rules = new Promise<typeof TurnTaking>((r) => (arrive = r));
    const convo = new Conversation(input, () => new FakeReply({ order: 0, sampleOffset: 0, playedMs: 0 }) as unknown as Reply, SETTINGS, rules);
    const log: string[] = [];
    convo.on('state', (e) => log.push(`${e.previous}->${e.state}`));
    convo.on('turn', (e) => log.push(`turn ${e.index}`));
    expect(convo.state).toBe('listening');
    convo.pause();
    expect(convo.state).toBe('paused');
    convo.resume();
    expect(convo.state).toBe('listening');
    arrive(TurnTaking);
    await rules;
    await tick();
    input.send(10, 'silence');
    input.send(20, 'speech'); // onset at 200 ms, confirmed on the third speech chunk
    expect(convo.state).toBe('user-speaking');
    input.send(45, 'silence'); // the hangover (400 ms) ends the turn on chunk 39
    // The turn is asked as it opens (its take streams), before the state event of the opening.
    expect(log).toEqual(['listening->paused', 'paused->listening', 'turn 1', 'listening->user-speaking', 'user-speaking->thinking']);
    await convo.stop();
  });

  it('rules that fail to build (the loaded class throws) end the conversation with that error', async () => {
    const input = new ScriptInput();
    const Broken = class {
      constructor() {
        throw new TalStreamError('bad-argument', 'no rules');
      }
    } as unknown as typeof TurnTaking;
    const convo = new Conversation(input, () => ({}) as Reply, SETTINGS, Promise.resolve(Broken));
    const errors: string[] = [];
    convo.on('error', (e) => errors.push(`${e.code}: ${e.message}`));
    await tick();
    expect(errors).toEqual(['bad-argument: no rules']);
    expect(convo.state).toBe('stopped');
    expect(input.destroyed).toBe(1);
  });
});
