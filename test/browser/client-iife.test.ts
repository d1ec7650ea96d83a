// The snippet, as written, against the script-tag build (global `TalStream`): a real
// click unlocks audio, the fake microphone (440 Hz WAV) records, the take is uploaded over real
// HTTP and the golden reply streams back and plays through the real Player.
import { describe, expect, inject, it } from 'vitest';
import { realClick } from './real-click';
import { loadIife } from './load-iife';
import { audioSleep } from './capture-helpers';

describe('the client snippet from the IIFE global', () => {
  it('unlock, microphone, record, ask(take, {question}), iterate, done', async () => {
    const TalStream = await loadIife();
    const origin = inject('replyOrigin');
    const heard: string[] = [];
    const shown: string[] = [];

    // --- the snippet, as an app writes it ---
    const client = TalStream.createClient({ url: `${origin}/vector/tal-reply-stream.bin?chunk=300` });
    let unlocked: Promise<string> | undefined;
    const talk = document.createElement('button');
    talk.textContent = 'Talk';
    talk.onclick = () => {
      unlocked = client.unlock(); // from a click: creates/resumes the AudioContext
    };
    document.body.appendChild(talk);
    await realClick(talk);
    expect(await unlocked).toBe('running');
    // Processing off so the fake microphone's tone arrives as recorded.
    const mic = await client.microphone({ echoCancellation: false, noiseSuppression: false, autoGainControl: false });
    const take = mic.record();
    // 600 ms of audio (the app would stop on a button; on the audio clock, which the take counts).
    const stopped = audioSleep(client.audioContext, 600).then(() => take.stop());
    const reply = client.ask(take, { question: 'optional typed text' });
    const unsubscribe = reply.on('text', () => {});
    expect(typeof unsubscribe).toBe('function');
    for await (const ev of reply) {
      if (ev.type === 'question') heard.push(ev.text);
      if (ev.type === 'text') shown.push(ev.text);
    }
    const summary = await reply.done;
    // --- end of the snippet ---

    expect(heard).toEqual(['what is the weather?']);
    expect(shown).toEqual(Array.from({ length: 10 }, (_, i) => `part ${i + 1}. `));
    expect(Object.keys(summary).sort()).toEqual(
      ['answer', 'firstAudioMs', 'firstByteMs', 'frames', 'interrupted', 'maxRate', 'minRate', 'playedMs', 'position', 'question', 'underruns'].sort(),
    );
    // The rates the bundle's player played the reply at (played out, not interrupted: numbers).
    expect(summary.minRate).toBeGreaterThanOrEqual(0.9);
    expect(summary.maxRate).toBeLessThanOrEqual(1.1);
    expect(summary).toMatchObject({ frames: 11, question: 'what is the weather?', answer: shown.join(''), interrupted: false });
    expect(summary.playedMs).toBeGreaterThanOrEqual(199);
    expect(summary.firstByteMs).toBeGreaterThan(0);
    expect(summary.firstAudioMs).toBeGreaterThan(0);

    // What the server received: the take as 16 kHz int16 20 ms frames, sign 1 ... 3, with the question.
    const upload = await (await fetch(`${origin}/last-upload`)).json();
    const frames = upload.frames as { header: Record<string, number | string>; payloadBytes: number }[];
    // Every sample of the take, no more: 20 ms frames, the last one partial or the empty closing one.
    const result = await stopped;
    // 600 ms of audio time less the start and stop messages' trips to the audio thread (150 ms at
    // most, as in capture-microphone.test.ts; Firefox's microphone also comes in ~17 ms late).
    expect(result.durationMs).toBeGreaterThan(450);
    const samples = Math.round((result.durationMs * 16000) / 1000);
    expect(frames.reduce((n, f) => n + f.payloadBytes / 2, 0)).toBe(samples);
    expect(frames.length).toBe(Math.floor(samples / 320) + 1);
    expect(frames.map((f) => f.header.order)).toEqual(frames.map((_, i) => i + 1));
    expect(frames[0]!.header.sign).toBe(1);
    expect(frames.at(-1)!.header.sign).toBe(3);
    expect(frames.slice(1, -1).every((f) => f.header.sign === 2)).toBe(true);
    expect(frames.every((f) => f.header.sampleRate === 16000 && f.header.audioType === 'int16' && f.header.question === 'optional typed text')).toBe(true);
    expect(frames.slice(0, -1).every((f) => f.payloadBytes === 640)).toBe(true);

    await client.destroy();
    expect(client.audioContext.state).toBe('closed');
    await client.destroy();
  });
});
