// TurnTaking: verdicts per 20 ms chunk -> the TurnMachine's events, on the capture's clock. Every
// expected time below is counted from the script by hand (chunk k ends at (k + 1) x 20 ms).
import { describe, expect, it } from 'vitest';
import { TurnTaking, type SpeechVerdict, type TurnTakingOptions } from '../../src/conversation/turn-taking';
import { TurnMachine, type TurnStep } from '../../src/conversation/turn-machine';

const RATE = 16000;
const N = 320; // 20 ms
const OPTIONS: TurnTakingOptions = {
  sampleRate: RATE,
  frameMs: 20,
  minSpeechMs: 60,
  bargeInRule: { minSpeechMs: 100, maxGapMs: 20 },
  hangoverMs: 100,
  bargeIn: true,
  falseEndMs: 500,
  tailMs: 300,
};

/** Feeds `script` (one letter a chunk: s speech, e echo, . silence); returns each step with the chunk that caused it. */
function run(tt: TurnTaking, script: string): Array<[number, TurnStep]> {
  const v: Record<string, SpeechVerdict> = { s: 'speech', e: 'echo', '.': 'silence' };
  const out: Array<[number, TurnStep]> = [];
  for (const ch of script) {
    const k = Math.round(tt.nowMs / 20);
    for (const step of tt.chunk(N, v[ch]!)) out.push([k, step]);
  }
  return out;
}
const brief = (steps: Array<[number, TurnStep]>) => steps.map(([k, s]) => `${k}:${s.previous}->${s.state} ${s.actions.map((a) => a.type + ('onsetMs' in a ? `@${a.onsetMs}` : '')).join(',')}`.trim());

describe('TurnTaking', () => {
  it('a turn starts after 60 ms of unbroken speech, at its onset, and ends after 100 ms of silence; quiet chunks return nothing', () => {
    const tt = new TurnTaking(OPTIONS, new TurnMachine(OPTIONS));
    // Chunks 0-1 silence, 2-3 speech (too short), 4 silence, 5-9 speech, then silence.
    expect(brief(run(tt, '..ss.sssss......'))).toEqual([
      // 60 ms of speech from chunk 5 (at 100 ms) is confirmed at the end of chunk 7.
      '7:listening->user-speaking open-turn@100',
      // Silence from chunk 10 (200 ms): 100 ms of it at the end of chunk 14.
      '14:user-speaking->thinking send-turn',
    ]);
    expect(tt.nowMs).toBe(16 * 20);
    expect(tt.msAt(RATE)).toBe(1000);
  });

  it('echo counts as silence for the hangover; silence while listening ends nothing', () => {
    const tt = new TurnTaking(OPTIONS, new TurnMachine(OPTIONS));
    expect(brief(run(tt, '..........sssee.ee'))).toEqual(['12:listening->user-speaking open-turn@200', '17:user-speaking->thinking send-turn']);
  });

  it('while an answer is awaited or plays, the barge-in rule applies: 100 ms of speech, 20 ms gaps bridged', () => {
    const tt = new TurnTaking(OPTIONS, new TurnMachine(OPTIONS));
    run(tt, 'sss.....');
    expect(tt.machine.state).toBe('thinking');
    // Past the false-end window (500 ms after the turn ended at 160 ms): a barge-in, not a continuation.
    run(tt, '......................'); // to chunk 29 (600 ms)
    expect(tt.event('audio-start')).toEqual({ state: 'speaking', previous: 'thinking', actions: [] });
    // Chunks 30-32 speech (60 ms: a turn while listening, not a barge-in), a 2-chunk gap (over 20 ms:
    // the run is dropped), then speech from chunk 35 (700 ms) with a 1-chunk gap at 37: the run
    // spans 100 ms (5 chunks, 4 of them speech) at the end of chunk 39.
    expect(brief(run(tt, 'sss..ss.sss'))).toEqual(['39:speaking->user-speaking interrupt@700,open-turn@700']);
  });

  it('speech right after the turn ended, before any answer audio, continues the turn', () => {
    const tt = new TurnTaking(OPTIONS, new TurnMachine(OPTIONS));
    run(tt, 'sss.....'); // turn ends at 160 ms (chunk 7)
    expect(brief(run(tt, '..sssss'))).toEqual(['14:thinking->user-speaking continue-turn']);
  });

  it("event(): pause, resume and stop carry no time; the others the capture's time now; an outside turn-end restarts the hangover", () => {
    const tt = new TurnTaking(OPTIONS, new TurnMachine(OPTIONS));
    run(tt, 'ssss..'); // user-speaking, 40 ms of silence counted
    // An endOfTurn source ends the turn: the next turn's hangover counts from zero.
    expect(tt.event('turn-end')).toEqual({ state: 'thinking', previous: 'user-speaking', actions: [{ type: 'send-turn' }] });
    expect(tt.event('reply-end')).toEqual({ state: 'listening', previous: 'thinking', actions: [] });
    expect(tt.event('pause')).toEqual({ state: 'paused', previous: 'listening', actions: [] });
    expect(tt.event('resume')).toEqual({ state: 'listening', previous: 'paused', actions: [] });
    // Speech 2 chunks after the silence above: had the 40 ms counted on, 60 ms of silence would end it.
    expect(brief(run(tt, 'sss...'))).toEqual(['8:listening->user-speaking open-turn@120']);
    expect(brief(run(tt, '..'))).toEqual(['13:user-speaking->thinking send-turn']);
    expect(tt.event('stop')).toEqual({ state: 'stopped', previous: 'thinking', actions: [{ type: 'abort-reply' }] });
  });
});

describe('TurnTaking, half-duplex (bargeIn false)', () => {
  it('speech while the answer is awaited (past the false-end window) or plays changes nothing and returns no step', () => {
    const tt = new TurnTaking({ ...OPTIONS, bargeIn: false }, new TurnMachine({ ...OPTIONS, bargeIn: false }));
    run(tt, 'sss.....'); // the turn ends at 160 ms
    expect(brief(run(tt, '.'.repeat(30) + 'ssssss'))).toEqual([]);
    expect(tt.machine.state).toBe('thinking');
    tt.event('audio-start');
    expect(brief(run(tt, 'ssssss'))).toEqual([]);
    expect(tt.machine.state).toBe('speaking');
  });
});
