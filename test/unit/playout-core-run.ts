// Shared by the PlayoutCore unit tests: render mono quanta of 128 samples on a clock that follows
// the output, collecting the samples and the events (with `at`: the sample index in the whole run).
import type { PlayoutCore } from '../../src/playout/playout-core';
import { newEventRecord } from '../../src/playout/playout-events';
import type { PlayoutEventRecord } from '../../src/playout/types';

/** Renders `quanta` quanta of 128 samples at `rate` Hz, the clock at the first sample of each. */
export function runQuanta(c: PlayoutCore, quanta: number, rate: number) {
  const out: number[] = [];
  const events: (PlayoutEventRecord & { at: number })[] = [];
  const buf = [new Float32Array(128)];
  const ev = newEventRecord();
  for (let k = 0; k < quanta; k++) {
    const base = out.length;
    c.render(buf, (base * 1000) / rate);
    out.push(...buf[0]!);
    while (c.nextEvent(ev)) events.push({ ...ev, at: base + ev.atSample });
  }
  return { out, events };
}
