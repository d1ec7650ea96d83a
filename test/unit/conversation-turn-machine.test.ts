// The conversation's turn-taking, fed scripted events: each test states by hand the states and
// actions the behaviour calls for (the oracle is the script, not the machine).
import { describe, expect, it } from 'vitest';
import { TurnMachine, type TurnEvent, type TurnMachineOptions } from '../../src/conversation/turn-machine';

const OPTS: TurnMachineOptions = { bargeIn: true, falseEndMs: 1500, tailMs: 400 };

/** Runs the events; returns one "state: actions" line per event. */
function run(events: TurnEvent[], opts: Partial<TurnMachineOptions> = {}): string[] {
  const m = new TurnMachine({ ...OPTS, ...opts });
  return events.map((ev) => {
    const step = m.feed(ev);
    const acts = step.actions.map((a) =>
      a.type === 'open-turn' ? `open-turn@${a.onsetMs}${a.interrupted ? '+interrupted' : ''}` : a.type === 'interrupt' ? `interrupt@${a.onsetMs}` : a.type,
    );
    return `${step.state}: ${acts.join(',')}`;
  });
}

const speech = (onsetMs: number, atMs = onsetMs + 150): TurnEvent => ({ type: 'speech', onsetMs, atMs });
const turnEnd = (atMs: number): TurnEvent => ({ type: 'turn-end', atMs });
const audioStart = (atMs: number): TurnEvent => ({ type: 'audio-start', atMs });
const replyEnd = (atMs: number): TurnEvent => ({ type: 'reply-end', atMs });

describe('TurnMachine', () => {
  it('a plain turn: listening -> user-speaking -> thinking -> speaking -> listening', () => {
    expect(run([speech(1000), turnEnd(3000), audioStart(3400), replyEnd(6000)])).toEqual([
      'user-speaking: open-turn@1000',
      'thinking: send-turn',
      'speaking: ',
      'listening: ',
    ]);
  });

  it('a false end of turn: speech within falseEndMs, before any audio, continues the same turn', () => {
    expect(run([speech(1000), turnEnd(3000), speech(4500), turnEnd(6000), audioStart(6300)])).toEqual([
      'user-speaking: open-turn@1000',
      'thinking: send-turn',
      'user-speaking: continue-turn', // 4500 <= 3000 + 1500
      'thinking: send-turn',
      'speaking: ',
    ]);
  });

  it('speech after the false-end window while thinking is a barge-in on the unheard answer', () => {
    expect(run([speech(1000), turnEnd(3000), speech(4501)])).toEqual([
      'user-speaking: open-turn@1000',
      'thinking: send-turn',
      'user-speaking: interrupt@4501,open-turn@4501+interrupted',
    ]);
  });

  it('barge-in while speaking: interrupt, then a new turn from the speech onset that carries interrupted', () => {
    expect(run([speech(0), turnEnd(2000), audioStart(2500), speech(3000, 3160), turnEnd(5000)])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'speaking: ',
      'user-speaking: interrupt@3000,open-turn@3000+interrupted',
      'thinking: send-turn',
    ]);
  });

  it('the cut answer ending later changes nothing while the new turn is recorded', () => {
    expect(run([speech(0), turnEnd(2000), audioStart(2500), speech(3000), replyEnd(3010)])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'speaking: ',
      'user-speaking: interrupt@3000,open-turn@3000+interrupted',
      'user-speaking: ',
    ]);
  });

  it('bargeIn false: speech while speaking and in the tail after it is ignored; after the tail it opens a turn', () => {
    const lines = run([speech(0), turnEnd(2000), audioStart(2500), speech(3000), replyEnd(5000), speech(5399), speech(5400)], { bargeIn: false });
    expect(lines).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'speaking: ',
      'speaking: ',
      'listening: ',
      'listening: ', // 5399 < 5000 + 400: the answer's tail
      'user-speaking: open-turn@5400',
    ]);
  });

  it('bargeIn false still takes a false end of turn, and ignores later speech while thinking', () => {
    expect(run([speech(0), turnEnd(2000), speech(3000), turnEnd(4000), speech(6000)], { bargeIn: false })).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'user-speaking: continue-turn',
      'thinking: send-turn',
      'thinking: ',
    ]);
  });

  it('an answer with no audio (text only or failed) hands the floor back', () => {
    expect(run([speech(0), turnEnd(1000), replyEnd(1200), speech(2000)])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'listening: ',
      'user-speaking: open-turn@2000',
    ]);
  });

  it('pause drops a turn being spoken; resume returns to what the answer is doing', () => {
    expect(run([speech(0), { type: 'pause' }, speech(500), { type: 'resume' }, speech(900)])).toEqual([
      'user-speaking: open-turn@0',
      'paused: drop-turn',
      'paused: ',
      'listening: ',
      'user-speaking: open-turn@900',
    ]);
    expect(run([speech(0), turnEnd(1000), audioStart(1300), { type: 'pause' }, { type: 'resume' }, { type: 'pause' }, replyEnd(4000), { type: 'resume' }])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'speaking: ',
      'paused: ',
      'speaking: ',
      'paused: ',
      'paused: ',
      'listening: ',
    ]);
    expect(run([speech(0), turnEnd(1000), { type: 'pause' }, { type: 'resume' }])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'paused: ',
      'thinking: ',
    ]);
  });

  it('stop aborts what is in flight and is final', () => {
    expect(run([speech(0), { type: 'stop' }, speech(100), { type: 'resume' }])).toEqual([
      'user-speaking: open-turn@0',
      'stopped: drop-turn',
      'stopped: ',
      'stopped: ',
    ]);
    expect(run([speech(0), turnEnd(1000), audioStart(1200), { type: 'stop' }, { type: 'stop' }])).toEqual([
      'user-speaking: open-turn@0',
      'thinking: send-turn',
      'speaking: ',
      'stopped: abort-reply',
      'stopped: ',
    ]);
  });

  it('says which speech rule applies in each state', () => {
    const m = new TurnMachine(OPTS);
    const seen: string[] = [m.listeningFor];
    for (const ev of [speech(0), turnEnd(1000), audioStart(1200)]) {
      m.feed(ev);
      seen.push(m.listeningFor);
    }
    expect(seen).toEqual(['turn', 'none', 'barge-in', 'barge-in']);
    const half = new TurnMachine({ ...OPTS, bargeIn: false });
    for (const ev of [speech(0), turnEnd(1000), audioStart(1200)]) half.feed(ev);
    expect(half.listeningFor).toBe('none');
  });

  it('a scripted conversation: 6 turns, 2 barge-ins, one false end of turn, in order', () => {
    const lines = run([
      speech(0), turnEnd(2000), audioStart(2400), replyEnd(5000), // turn 1
      speech(6000), turnEnd(8000), audioStart(8300), speech(9000), // turn 2, cut by turn 3
      turnEnd(11000), speech(11800), turnEnd(13000), audioStart(13300), replyEnd(15000), // turn 3, false end
      speech(16000), turnEnd(17000), audioStart(17200), speech(18000), // turn 4, cut by turn 5
      turnEnd(19000), audioStart(19300), replyEnd(21000), // turn 5
      speech(22000), turnEnd(23000), audioStart(23300), replyEnd(25000), // turn 6
    ]);
    const actions = lines.map((l) => l.split(': ')[1]).filter((a) => a !== '').join(' ');
    expect(actions).toBe(
      'open-turn@0 send-turn ' +
        'open-turn@6000 send-turn interrupt@9000,open-turn@9000+interrupted ' +
        'send-turn continue-turn send-turn ' +
        'open-turn@16000 send-turn interrupt@18000,open-turn@18000+interrupted ' +
        'send-turn open-turn@22000 send-turn',
    );
    expect(lines.at(-1)).toBe('listening: ');
  });
});

describe('TurnMachine: every event in every state (the table is the diagram at the top of turn-machine.ts)', () => {
  // How each state is reached: a turn from 100, ended at 1000, its answer heard from 1200.
  const reach: Record<string, TurnEvent[]> = {
    listening: [],
    'user-speaking': [speech(100)],
    thinking: [speech(100), turnEnd(1000)],
    speaking: [speech(100), turnEnd(1000), audioStart(1200)],
    paused: [{ type: 'pause' }],
    stopped: [{ type: 'stop' }],
  };
  // Each event at 3000 ms: speech there is past the false-end window (the turn ended at 1000, + 1500).
  const events: Record<string, TurnEvent> = {
    speech: speech(3000),
    'turn-end': turnEnd(3000),
    'audio-start': audioStart(3000),
    'reply-end': replyEnd(3000),
    pause: { type: 'pause' },
    resume: { type: 'resume' },
    stop: { type: 'stop' },
  };
  const table: Record<string, Record<string, string>> = {
    listening: { speech: 'user-speaking: open-turn@3000', 'turn-end': 'listening: ', 'audio-start': 'listening: ', 'reply-end': 'listening: ', pause: 'paused: ', resume: 'listening: ', stop: 'stopped: ' },
    'user-speaking': { speech: 'user-speaking: ', 'turn-end': 'thinking: send-turn', 'audio-start': 'user-speaking: ', 'reply-end': 'user-speaking: ', pause: 'paused: drop-turn', resume: 'user-speaking: ', stop: 'stopped: drop-turn' },
    thinking: { speech: 'user-speaking: interrupt@3000,open-turn@3000+interrupted', 'turn-end': 'thinking: ', 'audio-start': 'speaking: ', 'reply-end': 'listening: ', pause: 'paused: ', resume: 'thinking: ', stop: 'stopped: abort-reply' },
    speaking: { speech: 'user-speaking: interrupt@3000,open-turn@3000+interrupted', 'turn-end': 'speaking: ', 'audio-start': 'speaking: ', 'reply-end': 'listening: ', pause: 'paused: ', resume: 'speaking: ', stop: 'stopped: abort-reply' },
    paused: { speech: 'paused: ', 'turn-end': 'paused: ', 'audio-start': 'paused: ', 'reply-end': 'paused: ', pause: 'paused: ', resume: 'listening: ', stop: 'stopped: ' },
    stopped: { speech: 'stopped: ', 'turn-end': 'stopped: ', 'audio-start': 'stopped: ', 'reply-end': 'stopped: ', pause: 'stopped: ', resume: 'stopped: ', stop: 'stopped: ' },
  };
  for (const [state, row] of Object.entries(table)) {
    it(`from ${state}`, () => {
      for (const [name, want] of Object.entries(row)) {
        const got = run([...reach[state]!, events[name]!]).at(-1);
        expect([name, got]).toEqual([name, want]);
      }
    });
  }

  it('which rule listens, per state and bargeIn', () => {
    const rules = (bargeIn: boolean) =>
      Object.entries(reach).map(([state, evs]) => {
        const m = new TurnMachine({ ...OPTS, bargeIn });
        for (const ev of evs) m.feed(ev);
        return `${state}: ${m.listeningFor}`;
      });
    expect(rules(true)).toEqual(['listening: turn', 'user-speaking: none', 'thinking: barge-in', 'speaking: barge-in', 'paused: none', 'stopped: none']);
    expect(rules(false)).toEqual(['listening: turn', 'user-speaking: none', 'thinking: barge-in', 'speaking: none', 'paused: none', 'stopped: none']);
  });

  it("while paused the answer's progress is still followed: resume lands where it is", () => {
    const pause: TurnEvent = { type: 'pause' }, resume: TurnEvent = { type: 'resume' };
    // Paused while thinking; the answer starts playing meanwhile: resume to speaking.
    expect(run([speech(100), turnEnd(1000), pause, audioStart(1200), resume]).at(-1)).toBe('speaking: ');
    // ... and ends meanwhile: resume to listening.
    expect(run([speech(100), turnEnd(1000), pause, audioStart(1200), replyEnd(1500), resume]).at(-1)).toBe('listening: ');
    // Half-duplex: an answer that ended while paused still has its tail (400 ms) after resume.
    const tail = [speech(100), turnEnd(1000), audioStart(1200), pause, replyEnd(5000), resume];
    expect(run([...tail, speech(5300)], { bargeIn: false }).at(-1)).toBe('listening: ');
    expect(run([...tail, speech(5400)], { bargeIn: false }).at(-1)).toBe('user-speaking: open-turn@5400');
  });
});
