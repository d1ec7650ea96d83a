import workletSource from 'talstream:worklet';
import type { TurnTaking } from '../conversation/turn-taking';
import { TalStreamError } from '../errors';

/** Options for loading talstream's AudioWorklet modules. */
export interface WorkletLoadOptions {
  /**
   * URL of a self-hosted copy of `dist/talstream.worklet.js`, tried when the inlined source cannot be
   * loaded from a blob: or data: URL (a Content-Security-Policy without `blob:`/`data:` in `script-src`).
   * A hands-free conversation also looks for `talstream.hands-free.js` beside it.
   */
  workletUrl?: string;
}

/** The hands-free module's file name, beside talstream.worklet.js and the script-tag bundle (the build writes it: worklets/build/inline-plugin.mjs). */
const HANDS_FREE_FILE = 'talstream.hands-free.js';

// One load per context and module: the processors live in the main module; a conversation's
// listening path and turn rules in the hands-free module (worklets/echo-plugin.ts says why apart).
const loaded = new WeakMap<BaseAudioContext, Promise<void>>();
const handsFreeLoaded = new WeakMap<BaseAudioContext, Promise<typeof TurnTaking>>();

function once<T>(cache: WeakMap<BaseAudioContext, Promise<T>>, context: BaseAudioContext, load: () => Promise<T>): Promise<T> {
  let p = cache.get(context);
  if (!p) {
    p = load();
    cache.set(context, p);
    // A failed load may be retried later (e.g. with a workletUrl): forget the failure.
    p.catch(() => cache.delete(context));
  }
  return p;
}

/**
 * Adds talstream's processors to `context.audioWorklet`, once per context.
 * Tries a blob: URL of the inlined source (revoked in `finally`), then a data: URL, then
 * `workletUrl`. When all fail, rejects with a `worklet-load` TalStreamError that says what to do.
 */
export function loadWorklet(context: BaseAudioContext, options: WorkletLoadOptions = {}): Promise<void> {
  return once(loaded, context, async () => {
    await addFirst(context, workletSource, options.workletUrl ? [['workletUrl', options.workletUrl]] : [], (tried) =>
      // Chromium reports a CSP refusal only as "AbortError: Unable to load a worklet's module"; the
      // real reason is in the browser console. Say what would fix it.
      'Could not load the talstream AudioWorklet. If the page has a Content-Security-Policy, add `blob:` to ' +
      'script-src (or worker-src), or self-host dist/talstream.worklet.js and pass its URL as `workletUrl`. ' +
      `Tried: ${tried}`,
    );
  });
}

/**
 * Loads the hands-free module once per context: adds it to `context.audioWorklet` (the capture
 * worklet's listening path) and resolves with the conversation's turn rules. The ESM build imports
 * it (a chunk of its own) and adds its source from blob: and data: URLs; the script-tag build
 * adds `talstream.hands-free.js` from beside `workletUrl`, then from beside the script itself, and
 * imports the turn rules from the same file.
 * @throws TalStreamError `worklet-load` when it cannot be loaded, naming the file and every attempt
 */
export function loadHandsFree(context: BaseAudioContext, options: WorkletLoadOptions = {}): Promise<typeof TurnTaking> {
  return once(handsFreeLoaded, context, async () => {
    const mod = await import('talstream:hands-free');
    const urls: Array<[string, string]> = [];
    if (options.workletUrl) urls.push(['beside workletUrl', resolveBeside(options.workletUrl)]);
    if (mod.default.url) urls.push(['beside the script', mod.default.url]);
    const advice = (tried: string): string =>
      `Could not load ${HANDS_FREE_FILE}, which hands-free conversations need. ` +
      'Serve it from dist/ beside talstream.iife.js (or beside `workletUrl`); under a Content-Security-Policy ' +
      `allow its origin in script-src. Tried: ${tried}`;
    const url = await addFirst(context, mod.default.source, urls, advice);
    if (mod.TurnTaking) return mod.TurnTaking;
    try {
      return ((await import(/* @vite-ignore */ url!)) as { TurnTaking: typeof TurnTaking }).TurnTaking;
    } catch (e) {
      throw new TalStreamError('worklet-load', advice(`import ${url}: ${(e as Error)?.message ?? String(e)}`), { cause: e });
    }
  });
}

function resolveBeside(url: string): string {
  try {
    return new URL(HANDS_FREE_FILE, new URL(url, typeof location !== 'undefined' ? location.href : undefined)).href;
  } catch {
    return url.replace(/[^/]*$/, HANDS_FREE_FILE);
  }
}

/** addModule() the source (blob:, then data:), then each URL, until one loads; resolves with that URL (null: the source). */
async function addFirst(
  context: BaseAudioContext,
  source: string | null,
  urls: Array<[string, string]>,
  advice: (tried: string) => string,
): Promise<string | null> {
  if (!context.audioWorklet) {
    throw new TalStreamError('unsupported', 'AudioWorklet is not available (it needs a secure context: https or localhost)');
  }
  const failures: string[] = [];
  const attempt = async (label: string, url: string): Promise<boolean> => {
    try {
      await context.audioWorklet.addModule(url);
      return true;
    } catch (err) {
      failures.push(`${label}: ${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`);
      return false;
    }
  };
  if (source !== null) {
    if (typeof Blob !== 'undefined' && typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function') {
      const blobUrl = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
      try {
        if (await attempt('blob: URL', blobUrl)) return null;
      } finally {
        URL.revokeObjectURL(blobUrl);
      }
    }
    if (await attempt('data: URL', 'data:text/javascript;charset=utf-8,' + encodeURIComponent(source))) return null;
  }
  for (const [label, url] of urls) if (await attempt(`${label} ${url}`, url)) return url;
  throw new TalStreamError('worklet-load', advice(failures.length ? failures.join('; ') : 'nothing (no source, no URL)'));
}
