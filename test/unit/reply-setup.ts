// The Reply under test with its doubles wired in (reply-fakes.ts), and frames and event digests
// the Reply tests share (not a test file itself).
import { Reply, type ReplyInit } from '../../src/reply';
import { encodeTalAudio } from '../../src/protocol/tal-audio';
import type { ReplyEvent } from '../../src/types';
import { FakePlayer, ManualTime, feedResponse } from './reply-fakes';

/** A 24 kHz int16 frame of `samples` samples, every sample = order * 100 (so the player side can tell frames apart). */
export function tal(order: number, extra: Record<string, unknown> = {}, samples = 480): Uint8Array {
  return encodeTalAudio(
    { sampleRate: 24000, order, sign: order === 1 ? 1 : 2, question: 'what is the weather?', ...extra },
    new Int16Array(samples).fill(order * 100),
  );
}

export function setup(overrides: Partial<ReplyInit> = {}, mode: 'manual' | 'auto' = 'manual') {
  const time = new ManualTime();
  const player = new FakePlayer(mode);
  const feed = feedResponse();
  let requestSignal: AbortSignal | undefined;
  let acquired = 0;
  let requests = 0;
  const reply = new Reply({
    request: async (signal) => {
      requests++;
      requestSignal = signal;
      return feed.response;
    },
    responseType: 'audio',
    clock: time.clock,
    timers: time.timers,
    acquirePlayer: async () => {
      acquired++;
      return player;
    },
    ...overrides,
  });
  const events: ReplyEvent[] = [];
  const collected = (async () => {
    for await (const ev of reply) events.push(ev);
  })();
  return { time, player, feed, reply, events, collected, signal: () => requestSignal, acquired: () => acquired, requests: () => requests };
}

export const brief = (ev: ReplyEvent): string => {
  switch (ev.type) {
    case 'frame':
      return `frame ${ev.order}@${ev.offset}`;
    case 'question':
    case 'text':
      return `${ev.type} ${ev.text}`;
    case 'url':
      return `url ${ev.url}`;
    case 'json':
      return `json ${JSON.stringify(ev.value)}`;
    case 'error':
      return `error ${ev.error.code}${ev.fatal ? ' fatal' : ''}`;
    default:
      return ev.type;
  }
};
