// Hostile headers in real Chromium: `__proto__` / `constructor` / `prototype` keys, an HTML
// `answer` and a `url` pointing back at the fault server. Through the real client: nothing is
// polluted, the url is data (never fetched, never navigated to), the HTML is text. Through the
// demo page (the script-tag build, in a same-origin iframe): the caption shows the HTML as text.
import { afterEach, describe, expect, it } from 'vitest';
import { faultOrigin, recordEvents, records, tappedClient, until, within } from './reliability-helpers';
import { realClick } from './real-click';

let env: Awaited<ReturnType<typeof tappedClient>> | null = null;
afterEach(async () => {
  await env?.cleanup();
  env = null;
  document.body.innerHTML = '';
});

const HTML = '<img src=x onerror="window.__pwned=1">';
let seq = 0;
const nextId = () => `h${++seq}-${Math.random().toString(36).slice(2, 8)}`;

describe('hostile header keys through the client', () => {
  it('pollute no prototype, reach the app as own data, url handed over as text and never fetched', async () => {
    env = await tappedClient();
    const id = nextId();
    const href = location.href;
    const reply = env.client.ask(null, { question: 'q', url: `${faultOrigin()}/reply?id=${id}&frames=3&fault=hostile` });
    const rec = recordEvents(reply);
    const { summary, error } = await within(rec.settled, 5000, 'the reply');
    expect(error).toBeNull();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    expect((Object as unknown as Record<string, unknown>).polluted).toBeUndefined();
    const frames = rec.events.filter((e) => e.type === 'frame') as { header: Record<string, unknown> }[];
    expect(frames).toHaveLength(3);
    for (const { header } of frames) {
      expect(Object.getPrototypeOf(header)).toBe(Object.prototype);
      expect(Object.hasOwn(header, '__proto__')).toBe(true);
      expect(Object.getOwnPropertyDescriptor(header, '__proto__')!.value).toEqual({ polluted: 'yes' });
      expect(Object.getOwnPropertyDescriptor(header, 'constructor')!.value).toEqual({ prototype: { polluted: 'yes' } });
      expect(header.prototype).toEqual({ polluted: 'yes' });
    }
    // The url: one event, the text as sent; the server saw no request for it; no navigation.
    const never = `${faultOrigin()}/never?id=${encodeURIComponent(id)}`;
    expect(rec.events.filter((e) => e.type === 'url').map((e) => ({ ...e, at: 0 }))).toEqual([{ type: 'url', url: never, order: 1, at: 0 }]);
    expect(summary!.answer).toBe(`${HTML}w1 ${HTML}w2 ${HTML}w3 `);
    expect(summary!.frames).toBe(3);
    await new Promise((r) => setTimeout(r, 300));
    expect((await records(id)).map((r) => r.path)).toEqual(['/reply']);
    expect(location.href).toBe(href);
    expect((window as { __pwned?: unknown }).__pwned).toBeUndefined();
  });
});

describe('the demo page', () => {
  it('shows header text as text: the HTML answer is in the caption, no element made from it', async () => {
    const id = nextId();
    const ask = `${faultOrigin()}/reply?id=${id}&frames=3&fault=hostile`;
    const frame = document.createElement('iframe');
    frame.style.cssText = 'width:900px;height:700px';
    frame.allow = 'microphone; autoplay';
    // Same origin as the test page (vitest serves the repo root), so the test can read the DOM.
    frame.src = `/demo/index.html?processing=off&ask=${encodeURIComponent(ask)}`;
    document.body.appendChild(frame);
    await new Promise((r) => frame.addEventListener('load', r, { once: true }));
    const win = frame.contentWindow as Window & { TalStream?: unknown; __pwned?: unknown; talstreamDemo?: { client: { destroy(): Promise<void> } } };
    const doc = frame.contentDocument!;
    expect(win.TalStream, 'dist/talstream.iife.js must be built (npm run build)').toBeDefined();
    const href = win.location.href;
    (doc.getElementById('typed') as HTMLInputElement).value = 'show me';
    // Submitted by a real click (a gesture: WebKit starts the page's audio only in one).
    await realClick(doc.querySelector('#text-form button')!);
    const answer = doc.getElementById('answer')!;
    await until(() => answer.textContent === `${HTML}w1 ${HTML}w2 ${HTML}w3 `, 8000, 'the full answer caption');
    expect(answer.querySelector('*')).toBeNull();
    expect(doc.querySelectorAll('img').length).toBe(0);
    const url = doc.getElementById('url')!;
    expect(url.textContent).toBe(`${faultOrigin()}/never?id=${encodeURIComponent(id)}`);
    expect(url.querySelector('*')).toBeNull();
    expect(doc.getElementById('url-row')!.hidden).toBe(false);
    await new Promise((r) => setTimeout(r, 300));
    expect(win.__pwned).toBeUndefined();
    expect(win.location.href).toBe(href);
    expect((await records(id)).map((r) => r.path)).toEqual(['/reply']);
    await win.talstreamDemo?.client.destroy();
  });
});
