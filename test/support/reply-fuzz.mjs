// Seeded fuzzing of replies: builds valid TALAudio replies, damages them (bit flips, truncation,
// insertions, random length words, broken header JSON, out-of-range TALAudio fields), feeds them
// to decodeFrames at random chunkings and checks the decoder's promises. Plain JS taking the codec
// as an argument, so the unit test runs it on src/ and the reliability bench on dist/.

import { concat, rng } from './chunking.mjs';

// The fuzz's seeds go through this PRNG: the tests that replay a case import it from here.
export { rng };

const int = (r, lo, hi) => lo + Math.floor(r() * (hi - lo + 1));
const pick = (r, xs) => xs[Math.floor(r() * xs.length)];

const RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const TEXTS = ['', 'Hello.', 'Grüße, 世界 🌍', 'a "quoted" \\ text\n', '<img src=x onerror=alert(1)>'];
const EXTRAS = [{}, { voice: 'nova', nested: { a: [1, 2, { b: null }] } }, { __proto__x: 1, constructorish: true }];

/**
 * A valid reply of 1..6 TALAudio frames (mixed rates, 1..3 channels, int16/int32, 0..200 sample
 * frames, unicode captions, extra fields), `sign` 1, 2, ..., 3 on the last.
 * @returns {{ bytes: Uint8Array, frames: { offset: number, end: number, headerEnd: number }[] }}
 */
export function buildReply(r, codec, opts = {}) {
  const n = int(r, 1, 6);
  const parts = [];
  const frames = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const channels = opts.channels ?? int(r, 1, 3);
    const count = r() < 0.1 ? 0 : int(r, 1, 200);
    const samples = new Int16Array(count * channels);
    for (let k = 0; k < samples.length; k++) samples[k] = int(r, -32768, 32767);
    const header = {
      ...pick(r, EXTRAS),
      audioType: r() < 0.3 ? 'int32' : 'int16',
      sampleRate: opts.sampleRate ?? pick(r, RATES),
      channels,
      answer: pick(r, TEXTS),
      question: i === 0 ? 'what did I say?' : '',
      sign: i === 0 ? 1 : i === n - 1 ? 3 : 2,
      order: i + 1,
    };
    const bytes = codec.encodeTalAudio(header, samples);
    const h = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
    frames.push({ offset, end: offset + bytes.length, headerEnd: offset + 8 + h });
    parts.push(bytes);
    offset += bytes.length;
  }
  return { bytes: concat(parts), frames };
}

const enc = new TextEncoder();
const BROKEN_HEADERS = [
  () => enc.encode('{"audioType": "int16", "sampleRate": 16'), // cut JSON
  () => enc.encode('[1, 2, 3]'),
  () => enc.encode('null'),
  () => enc.encode('42'),
  () => enc.encode('"a string"'),
  () => new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), // {"<bad utf-8>":1}
  () => enc.encode(''),
  () => enc.encode('{"a":1}{"b":2}'),
];
const BAD_FIELDS = [
  { sampleRate: 0 },
  { sampleRate: 10_000_000 },
  { sampleRate: 16000.5 },
  { channels: 0 },
  { channels: 300 },
  { audioType: 'float32' },
  { audioType: 'int16', bitDepth: 32 },
  { bitDepth: 'sixteen' },
];
const SPECIAL_U32 = [0, 1, 7, 8, 9, 0xffffffff, 0x80000000, 16 * 1024 * 1024 + 1, 0xfffffff0];

function putU32(b, i, v) {
  b[i] = v & 0xff;
  b[i + 1] = (v >>> 8) & 0xff;
  b[i + 2] = (v >>> 16) & 0xff;
  b[i + 3] = (v >>> 24) & 0xff;
}

/** Replaces bytes [from, to) of `b` with `insert`. */
function splice(b, from, to, insert) {
  return concat([b.subarray(0, from), insert, b.subarray(to)]);
}

/** The mutation kinds, each `(r, bytes, frames, codec) -> bytes`. */
export const MUTATIONS = {
  'bit-flip': (r, b) => {
    const out = b.slice();
    for (let k = int(r, 1, 4); k > 0; k--) {
      const i = int(r, 0, out.length - 1);
      out[i] ^= 1 << int(r, 0, 7);
    }
    return out;
  },
  truncate: (r, b) => b.slice(0, int(r, 0, b.length - 1)),
  insert: (r, b) => {
    const junk = new Uint8Array(int(r, 1, 16));
    for (let k = 0; k < junk.length; k++) junk[k] = int(r, 0, 255);
    const at = int(r, 0, b.length);
    return splice(b, at, at, junk);
  },
  'length-word': (r, b, frames) => {
    const f = pick(r, frames);
    const out = b.slice();
    const which = r() < 0.5 ? 0 : 4;
    const v = r() < 0.4 ? pick(r, SPECIAL_U32) : r() < 0.5 ? int(r, 0, 2000) : Math.floor(r() * 0x100000000);
    putU32(out, f.offset + which, v);
    return out;
  },
  'broken-header': (r, b, frames) => {
    const f = pick(r, frames);
    const junk = pick(r, BROKEN_HEADERS)();
    const payload = b.subarray(f.headerEnd, f.end);
    const frame = new Uint8Array(8 + junk.length + payload.length);
    // Half the time the length words are kept consistent (only the JSON is wrong), half the time not.
    putU32(frame, 0, r() < 0.5 ? frame.length : f.end - f.offset);
    putU32(frame, 4, junk.length);
    frame.set(junk, 8);
    frame.set(payload, 8 + junk.length);
    return splice(b, f.offset, f.end, frame);
  },
  'bad-field': (r, b, frames, codec) => {
    const f = pick(r, frames);
    const header = JSON.parse(new TextDecoder().decode(b.subarray(f.offset + 8, f.headerEnd)));
    Object.assign(header, pick(r, BAD_FIELDS));
    return splice(b, f.offset, f.end, codec.encodeFrame(header, b.subarray(f.headerEnd, f.end)));
  },
  'odd-payload': (r, b, frames, codec) => {
    // A payload length that fits no whole sample of the header's type and channel count.
    const f = pick(r, frames);
    const header = JSON.parse(new TextDecoder().decode(b.subarray(f.offset + 8, f.headerEnd)));
    const payload = b.subarray(f.headerEnd, f.end);
    const cut = payload.length > 0 && r() < 0.5 ? payload.subarray(0, payload.length - 1) : concat([payload, new Uint8Array(int(r, 1, 3))]);
    return splice(b, f.offset, f.end, codec.encodeFrame(header, cut));
  },
};
const KINDS = Object.keys(MUTATIONS);

/** First index where `a` and `b` differ (the shorter length when one is a prefix of the other). */
function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? Infinity : n;
}

/**
 * Applies one mutation (80 %) or two to three, to a reply from {@link buildReply}.
 * `damage` is the first byte where the result differs from the original (Infinity if none).
 */
export function mutate(r, reply, codec) {
  let bytes = reply.bytes;
  const kinds = [];
  for (let m = r() < 0.8 ? 1 : int(r, 2, 3); m > 0; m--) {
    const kind = pick(r, KINDS);
    kinds.push(kind);
    // Later mutations aim at the original frame table; once the bytes moved they are just noise.
    try {
      bytes = MUTATIONS[kind](r, bytes, reply.frames, codec);
    } catch {
      // 'bad-field' cannot parse a header an earlier mutation broke: flip bits instead.
      bytes = MUTATIONS['bit-flip'](r, bytes);
    }
  }
  return { bytes, kinds, damage: firstDifference(reply.bytes, bytes) };
}

/** Splits into chunks of 1..maxChunk bytes; empty chunks appear now and then (a read may be empty). */
export function chunks(r, b, maxChunk) {
  const out = [];
  for (let at = 0; at < b.length; ) {
    if (r() < 0.02) out.push(new Uint8Array(0));
    const n = Math.min(b.length - at, int(r, 1, maxChunk));
    // Fresh copies, as a network read would deliver: no chunk shares a buffer with another.
    out.push(b.slice(at, at + n));
    at += n;
  }
  return out;
}

export function source(r, parts) {
  if (r() < 0.5) {
    return new ReadableStream({
      pull(c) {
        if (parts.length === 0) c.close();
        else c.enqueue(parts.shift());
      },
    });
  }
  return (async function* () {
    for (const p of parts) yield p;
  })();
}

const bytesEqual = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
const CODES = new Set(['bad-length', 'bad-header', 'frame-too-large', 'truncated', 'bad-payload']);

/**
 * One fuzz case. Returns what happened, and `problem` (a string) when a promise was broken:
 * a throw that is not a TalStreamError (from decodeFrames or readTalAudio), a code outside the
 * decoder's, an offset outside the damaged region, a frame wholly before the damage missing,
 * out of order or altered (header, payload, samples), or the decoder holding more bytes than
 * `maxFrameBytes`.
 */
export async function runCase(seed, codec) {
  const r = rng(seed);
  const reply = buildReply(r, codec);
  const reference = [];
  for (const f of reply.frames) {
    const view = reply.bytes.subarray(f.offset, f.end);
    const h = view[4] | (view[5] << 8) | (view[6] << 16);
    reference.push({
      header: JSON.stringify(JSON.parse(new TextDecoder().decode(view.subarray(8, 8 + h)))),
      payload: view.subarray(8 + h),
    });
  }
  const { bytes, kinds, damage } = mutate(r, reply, codec);
  const largest = Math.max(...reply.frames.map((f) => f.end - f.offset));
  const maxFrameBytes = r() < 0.5 ? undefined : largest + int(r, 0, 4096);
  const maxChunk = pick(r, [1, 3, 17, 256, 4096, 1 << 20]);
  const parts = chunks(r, bytes, maxChunk);
  const outcome = { seed, kinds, damage, frames: 0, code: null, problem: null };
  const fail = (msg) => ((outcome.problem = `seed ${seed} [${kinds.join('+')}] damage@${damage} chunks<=${maxChunk}: ${msg}`), outcome);

  // 1. The synchronous decoder: never holds more than maxFrameBytes.
  const limit = maxFrameBytes ?? codec.DEFAULT_MAX_FRAME_BYTES;
  const sync = new codec.FrameDecoder({ maxFrameBytes });
  let syncFrames = 0;
  let syncError = null;
  try {
    for (const p of parts) {
      syncFrames += sync.push(p).length;
      if (sync.bufferedBytes > limit) return fail(`decoder buffers ${sync.bufferedBytes} > maxFrameBytes ${limit}`);
    }
    sync.end();
  } catch (e) {
    syncError = e;
  }

  // 2. decodeFrames over a stream or an async iterable.
  const got = [];
  let error = null;
  try {
    for await (const f of codec.decodeFrames(source(r, parts.slice()), { maxFrameBytes })) got.push(f);
  } catch (e) {
    error = e;
  }
  outcome.frames = got.length;
  if (error) {
    if (!(error instanceof codec.TalStreamError)) return fail(`decodeFrames threw a non-TalStreamError: ${error}`);
    if (!CODES.has(error.code)) return fail(`unexpected code ${error.code}`);
    if (typeof error.offset !== 'number') return fail(`error without offset: ${error.message}`);
    const damagedFrame = reply.frames.find((f) => f.end > damage);
    if (damagedFrame && error.offset < damagedFrame.offset) return fail(`error offset ${error.offset} before the damaged frame at ${damagedFrame.offset}`);
    if (error.offset > bytes.length) return fail(`error offset ${error.offset} beyond the stream (${bytes.length})`);
    outcome.code = error.code;
  }
  if (!syncError !== !error || (error && (syncError.code !== error.code || syncError.offset !== error.offset)) || syncFrames !== got.length) {
    return fail(`FrameDecoder and decodeFrames disagree: ${syncFrames}/${syncError?.code} vs ${got.length}/${error?.code}`);
  }

  // 3. Every frame wholly before the damage: present, in order, intact.
  for (let j = 0; j < reply.frames.length && reply.frames[j].end <= damage; j++) {
    const g = got[j];
    if (!g) return fail(`frame ${j} (bytes ${reply.frames[j].offset}..${reply.frames[j].end}) is missing`);
    if (g.offset !== reply.frames[j].offset) return fail(`frame ${j} at offset ${g.offset}, expected ${reply.frames[j].offset}`);
    if (JSON.stringify(g.header) !== reference[j].header) return fail(`frame ${j} header altered`);
    if (!bytesEqual(g.payload, reference[j].payload)) return fail(`frame ${j} payload altered`);
  }

  // 4. Every frame that came out reads as TALAudio or fails with a TalStreamError inside the frame.
  for (const g of got) {
    try {
      const { channels } = codec.readTalAudio(g);
      if (g.offset + (g.byteLength ?? 0) <= damage && channels.some((c) => c.some((x) => !(x >= -1 && x < 1)))) {
        return fail(`samples out of range in good frame at ${g.offset}`);
      }
    } catch (e) {
      if (!(e instanceof codec.TalStreamError)) return fail(`readTalAudio threw a non-TalStreamError: ${e}`);
      if (g.offset + g.byteLength <= damage) return fail(`readTalAudio rejected a frame before the damage: ${e.message}`);
      if (!(e.offset >= g.offset && e.offset <= g.offset + g.byteLength)) return fail(`readTalAudio offset ${e.offset} outside its frame ${g.offset}..`);
      outcome.code ??= e.code;
    }
  }
  return outcome;
}

/**
 * Runs `cases` seeds from `firstSeed`; returns counts per mutation kind and per error code, and
 * the failures (at most 20 kept).
 */
export async function fuzz(codec, cases, firstSeed = 1) {
  const byCode = {};
  const byKind = {};
  const failures = [];
  let failed = 0;
  let framesOut = 0;
  for (let s = firstSeed; s < firstSeed + cases; s++) {
    const o = await runCase(s, codec);
    for (const k of o.kinds) byKind[k] = (byKind[k] ?? 0) + 1;
    byCode[o.code ?? 'none'] = (byCode[o.code ?? 'none'] ?? 0) + 1;
    framesOut += o.frames;
    if (o.problem) {
      failed++;
      if (failures.length < 20) failures.push(o.problem);
    }
  }
  return { cases, failed, failures, byCode, byKind, framesOut: framesOut };
}
