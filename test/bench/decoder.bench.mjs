// FrameDecoder throughput benchmark (issue 2). Run: npm run bench (builds dist/ first).
// Prints MB/s and frames/s of FrameDecoder against two naive decoders that concatenate the buffered
// bytes with each chunk (one cutting frames as views, one copying frames and the rest with slice), on a 10-minute 24 kHz reply of 20 ms frames cut into random 1 B..64 KiB
// chunks and of 1 s frames cut into 1 B..4 KiB chunks, plus per-chunk cost at minute 0 vs minute 10.
import { FrameDecoder, encodeTalAudio } from '../../dist/talstream.mjs';
import { concat, randomSplit, rng } from '../support/chunking.mjs';

const RATE = 24000;
const MINUTES = 10;

/** A reply as a server sends it: sign 1 then 2, order from 1, the question echoed, answer text every 10th frame. */
function buildReply(frameMs) {
  const samplesPerFrame = (RATE * frameMs) / 1000;
  const count = (MINUTES * 60 * 1000) / frameMs;
  const samples = new Float32Array(samplesPerFrame);
  const parts = [];
  for (let i = 0; i < count; i++) {
    for (let k = 0; k < samplesPerFrame; k++) samples[k] = 0.3 * Math.sin((2 * Math.PI * 220 * (i * samplesPerFrame + k)) / RATE);
    const f = encodeTalAudio(
      { sampleRate: RATE, question: 'what is the weather like tomorrow?', answer: i % 10 === 0 ? `Sentence ${i / 10} of the spoken answer. ` : '', sign: i === 0 ? 1 : 2, order: i + 1 },
      samples,
    );
    parts.push(f);
  }
  return { bytes: concat(parts), count };
}

/** What makes both naive decoders naive: a fresh array of the buffered bytes plus each chunk. */
class NaiveBase {
  buf = new Uint8Array(0);
  text = new TextDecoder('utf-8', { fatal: true });
  /** A new array: the buffered bytes, then `chunk`. */
  join(chunk) {
    const joined = new Uint8Array(this.buf.length + chunk.length);
    joined.set(this.buf);
    joined.set(chunk, this.buf.length);
    return joined;
  }
}

/** The naive way: concatenate the buffered bytes with each chunk, then cut frames off the front. */
class NaiveDecoder extends NaiveBase {
  push(chunk) {
    const joined = this.join(chunk);
    const out = [];
    let pos = 0;
    const v = new DataView(joined.buffer);
    while (joined.length - pos >= 8) {
      const total = v.getUint32(pos, true);
      const h = v.getUint32(pos + 4, true);
      if (joined.length - pos < total) break;
      const header = JSON.parse(this.text.decode(joined.subarray(pos + 8, pos + 8 + h)));
      out.push({ header, payload: joined.subarray(pos + 8 + h, pos + total), offset: 0 });
      pos += total;
    }
    this.buf = joined.subarray(pos);
    return out;
  }
}

/** The common naive JavaScript way: concatenate per chunk, then copy each frame out and the rest down (slice). */
class NaiveSliceDecoder extends NaiveBase {
  push(chunk) {
    this.buf = this.join(chunk);
    const out = [];
    while (this.buf.length >= 8) {
      const v = new DataView(this.buf.buffer, this.buf.byteOffset);
      const total = v.getUint32(0, true);
      const h = v.getUint32(4, true);
      if (this.buf.length < total) break;
      const frame = this.buf.slice(0, total);
      this.buf = this.buf.slice(total);
      const header = JSON.parse(this.text.decode(frame.subarray(8, 8 + h)));
      out.push({ header, payload: frame.subarray(8 + h), offset: 0 });
    }
    return out;
  }
}

function run(Decoder, chunks) {
  const d = new Decoder();
  let frames = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < chunks.length; i++) frames += d.push(chunks[i]).length;
  const ns = Number(process.hrtime.bigint() - t0);
  return { ns, frames };
}

/**
 * Best of `reps` runs (after one warm-up), so GC pauses, the JIT's first tiers and other processes
 * on a shared machine do not dominate.
 */
function measure(Decoder, chunks, bytes, reps, expectFrames) {
  run(Decoder, chunks);
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const { ns, frames } = run(Decoder, chunks);
    if (frames !== expectFrames) throw new Error(`decoded ${frames} frames, expected ${expectFrames}`);
    best = Math.min(best, ns);
  }
  return { mbps: bytes / 1e6 / (best / 1e9), fps: expectFrames / (best / 1e9), ms: best / 1e6 };
}

/**
 * Mean ns per push over the chunks that start in each [fromByte, toByte) window, decoding the whole
 * stream each time; the lowest mean of `reps` runs, so another process's time slice is not counted.
 */
function perChunkCost(chunks, windows, reps) {
  const best = windows.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    const sums = windows.map(() => 0);
    const counts = windows.map(() => 0);
    const d = new FrameDecoder();
    let at = 0;
    for (const c of chunks) {
      const w = windows.findIndex(([a, b]) => at >= a && at < b);
      if (w >= 0) {
        const t0 = process.hrtime.bigint();
        d.push(c);
        sums[w] += Number(process.hrtime.bigint() - t0);
        counts[w]++;
      } else d.push(c);
      at += c.length;
    }
    windows.forEach((_, i) => (best[i] = Math.min(best[i], sums[i] / counts[i])));
  }
  return best;
}

const fmt = (x, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const started = Date.now();
console.log(`FrameDecoder benchmark (node ${process.version}), ${MINUTES}-minute ${RATE / 1000} kHz mono int16 reply`);
console.log(`load average ${(await import('node:os')).loadavg()[0].toFixed(1)} on ${(await import('node:os')).cpus().length} CPUs (figures are best-of-N; a loaded machine lowers them)\n`);

for (const [frameMs, maxChunk, seed, goal] of [
  [20, 64 * 1024, 1, 600],
  [1000, 4 * 1024, 2, 2000],
]) {
  const { bytes, count } = buildReply(frameMs);
  // The same chunking on every run: the seed fixes it.
  const chunks = randomSplit(bytes, rng(seed), maxChunk);
  const ours = measure(FrameDecoder, chunks, bytes.length, 15, count);
  const naive = measure(NaiveDecoder, chunks, bytes.length, 5, count);
  const naiveSlice = measure(NaiveSliceDecoder, chunks, bytes.length, 5, count);
  console.log(`${frameMs} ms frames: ${fmt(bytes.length / 1e6, 1)} MB, ${fmt(count)} frames, ${fmt(chunks.length)} chunks of 1 B..${maxChunk / 1024} KiB`);
  console.log(`  FrameDecoder  ${fmt(ours.mbps).padStart(7)} MB/s  ${fmt(ours.fps).padStart(10)} frames/s  (${fmt(ours.ms, 1)} ms)  goal >= ${goal} MB/s: ${ours.mbps >= goal ? 'met' : 'NOT met'}`);
  console.log(`  naive concat  ${fmt(naive.mbps).padStart(7)} MB/s  ${fmt(naive.fps).padStart(10)} frames/s  (${fmt(naive.ms, 1)} ms)`);
  console.log(`  naive + slice ${fmt(naiveSlice.mbps).padStart(7)} MB/s  ${fmt(naiveSlice.fps).padStart(10)} frames/s  (${fmt(naiveSlice.ms, 1)} ms)`);
  console.log(`  ratio         ${fmt(ours.mbps / naive.mbps, 1)}x naive concat, ${fmt(ours.mbps / naiveSlice.mbps, 1)}x naive concat + slice`);
  const minute = bytes.length / MINUTES;
  const [m0, m10] = perChunkCost(chunks, [[0, minute], [bytes.length - minute, bytes.length]], 9);
  console.log(`  per-chunk cost: minute 0 ${fmt(m0)} ns, minute 10 ${fmt(m10)} ns (ratio ${fmt(m10 / m0, 2)})\n`);
}
console.log(`done in ${fmt((Date.now() - started) / 1000, 1)} s`);
