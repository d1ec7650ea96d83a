// The script-tag build in the test page, loaded as a site would; the tests of one file share the
// one global (a later call returns it without another <script>).
import { inject } from 'vitest';

/** Loads dist/talstream.iife.js with a real <script src> tag and returns the `TalStream` global. */
export async function loadIife(): Promise<any> {
  const w = window as unknown as { TalStream?: unknown };
  if (w.TalStream) return w.TalStream;
  await new Promise<void>((resolve, reject) => {
    const s = document.createElement('script');
    s.src = `${inject('staticOrigin')}/dist/talstream.iife.js`;
    s.onload = () => resolve();
    s.onerror = () => reject(new Error('script failed to load (run `npm run build` first)'));
    document.head.appendChild(s);
  });
  return w.TalStream;
}
