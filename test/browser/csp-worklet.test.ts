// The worklet loader under a strict Content-Security-Policy, in each engine. Chromium applies
// the page's CSP to audioWorklet.addModule, so the scenario runs in a page that carries the
// header: test/fixtures/csp-page.html from the static server (`?csp=` sets it), in an iframe. It
// loads the script-tag build, asks the fault server for a short reply with the real Player, and
// posts back the reply's summary or error. Which URL loaded follows from the differences between
// runs: one CSP, with and without `workletUrl`; and the failure message lists every attempt.
// (Chromium reports a refused worklet module neither as a securitypolicyviolation event nor in
// resource timing, so the page cannot observe the attempts directly.)
import { describe, expect, inject, it } from 'vitest';
import { engine } from './engine-support';
import { realClick } from './real-click';

interface PageResult {
  ok: boolean;
  /** The conversation's state once ready (`converse` runs). */
  listening?: string;
  playedMs?: number;
  frames?: number;
  code?: string;
  message?: string;
}

let run = 0;
async function underCsp(csp: string, opts: { workletUrl?: string; converse?: boolean; page?: string } = {}): Promise<PageResult> {
  const id = `csp${++run}`;
  const stat = inject('staticOrigin');
  const q = new URLSearchParams({ csp, run: id, ask: `${inject('faultOrigin')}/reply?id=${id}&frames=5` });
  if (opts.workletUrl) q.set('workletUrl', opts.workletUrl);
  if (opts.converse) q.set('converse', '1');
  // Engine note 1: in WebKit the frame's context starts only from a gesture in the frame.
  if (engine === 'webkit') q.set('gesture', '1');
  const frame = document.createElement('iframe');
  frame.allow = 'autoplay';
  frame.src = `${stat}/test/fixtures/${opts.page ?? 'csp-page.html'}?${q}`;
  const result = new Promise<PageResult>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no report from the CSP page (${csp})`)), 15_000);
    const onMessage = (e: MessageEvent) => {
      if (e.data?.cspPage !== id) return;
      if (e.data.ready) {
        realClick(frame).catch(reject);
        return;
      }
      clearTimeout(timer);
      removeEventListener('message', onMessage);
      resolve(e.data as PageResult);
    };
    addEventListener('message', onMessage);
  });
  document.body.appendChild(frame);
  try {
    return await result;
  } finally {
    frame.remove();
  }
}

const STRICT = "script-src 'self'; object-src 'none'; base-uri 'none'";

describe('worklet loading under CSP', () => {
  it("script-src 'self' blob:: the inlined worklet loads from a blob: URL and plays", async () => {
    const r = await underCsp("script-src 'self' blob:; object-src 'none'; base-uri 'none'");
    expect(r).toMatchObject({ ok: true, frames: 5 });
    expect(r.playedMs).toBeCloseTo(100, 0);
  });

  it("script-src 'self' data:: blob: is refused, the data: URL loads and plays", async () => {
    const r = await underCsp("script-src 'self' data:; object-src 'none'; base-uri 'none'");
    expect(r).toMatchObject({ ok: true, frames: 5 });
    expect(r.playedMs).toBeCloseTo(100, 0);
  });

  it("strict script-src 'self' with workletUrl: blob: and data: refused, the same-origin file loads and plays", async () => {
    const r = await underCsp(STRICT, { workletUrl: '/dist/talstream.worklet.js' });
    expect(r).toMatchObject({ ok: true, frames: 5 });
    expect(r.playedMs).toBeCloseTo(100, 0);
  });

  it("strict script-src 'self' without workletUrl: worklet-load, naming the directive to add and the file to self-host", async () => {
    const r = await underCsp(STRICT);
    expect(r.ok).toBe(false);
    expect(r.code).toBe('worklet-load');
    expect(r.message).toContain('blob:');
    expect(r.message).toContain('script-src');
    expect(r.message).toContain('talstream.worklet.js');
    expect(r.message).toContain('workletUrl');
    // Both inlined variants were tried, in order, and refused.
    expect(r.message).toMatch(/Tried: blob: URL: .+; data: URL: .+$/);
  });

  it('a workletUrl that does not load either: the same advice, and the URL that failed', async () => {
    const r = await underCsp(STRICT, { workletUrl: '/dist/missing.worklet.js' });
    expect(r.ok).toBe(false);
    expect(r.code).toBe('worklet-load');
    expect(r.message).toContain('blob:');
    expect(r.message).toMatch(/Tried: blob: URL: .+; data: URL: .+; workletUrl \/dist\/missing\.worklet\.js: .+$/);
  });

  // A conversation's hands-free module (worklets/echo-plugin.ts) is a file beside the script-tag
  // bundle: found beside the script, or beside workletUrl; the worklet adds it, the page imports it.
  it("strict script-src 'self' with workletUrl: a conversation listens (the hands-free file loads from beside it)", async () => {
    const r = await underCsp(STRICT, { workletUrl: '/dist/talstream.worklet.js', converse: true });
    expect(r).toMatchObject({ ok: true, frames: 5, listening: 'listening' });
  });

  const INLINE = "script-src 'self' 'unsafe-inline' blob:; object-src 'none'; base-uri 'none'";
  it('the bundle inlined in the page (no script URL), no workletUrl: it plays, but a conversation fails with worklet-load naming the hands-free file', async () => {
    const r = await underCsp(INLINE, { converse: true, page: 'inline-iife-page.html' });
    expect(r.ok).toBe(false);
    expect(r.code).toBe('worklet-load');
    expect(r.message).toContain('talstream.hands-free.js');
    expect(r.message).toContain('workletUrl');
    expect(r.message).toMatch(/Tried: nothing \(no source, no URL\)$/);
  });

  it('the bundle inlined in the page with workletUrl: the hands-free file beside workletUrl loads (worklet and turn rules) and the conversation listens', async () => {
    const r = await underCsp(INLINE, { workletUrl: '/dist/talstream.worklet.js', converse: true, page: 'inline-iife-page.html' });
    expect(r).toMatchObject({ ok: true, frames: 5, listening: 'listening' });
  });
});
