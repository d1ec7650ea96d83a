import { describe, expect, inject, it } from 'vitest';

/** Loads dist/talstream.iife.js with a real <script src> tag, as a site would. */
async function loadIife(): Promise<any> {
  const w = window as unknown as { TalStream?: unknown };
  if (w.TalStream) return w.TalStream;
  await new Promise<void>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${inject('staticOrigin')}/dist/talstream.iife.js`;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error('script failed to load'));
    document.head.appendChild(s);
  });
  return w.TalStream;
}

describe('IIFE bundle in a page', () => {
  it('defines the TalStream global with the error type', async () => {
    const TalStream = await loadIife();
    expect(typeof TalStream).toBe('object');
    const e = new TalStream.TalStreamError('truncated', 'x', { offset: 12 });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('truncated');
    expect(e.offset).toBe(12);
  });
});
