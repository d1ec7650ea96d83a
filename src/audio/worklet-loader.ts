import workletSource from 'talstream:worklet';
import { TalStreamError } from '../errors';

/** Options for loading talstream's AudioWorklet modules. */
export interface WorkletLoadOptions {
  /**
   * URL of a self-hosted copy of `dist/talstream.worklet.js`, tried when the inlined source cannot be
   * loaded from a blob: or data: URL (a Content-Security-Policy without `blob:`/`data:` in `script-src`).
   * A hands-free conversation also looks for `talstream.echo-worklet.js` beside it.
   */
  workletUrl?: string;
}

/** The echo module's file name, beside talstream.worklet.js and the script-tag bundle. */
const ECHO_FILE = 'talstream.echo-worklet.js';

// One load per context and module: the processors live in the main module; the echo path of a
// conversation in the second (worklets/echo-plugin.ts says why it is apart).
const loaded = new WeakMap<BaseAudioContext, Promise<void>>();
const echoLoaded = new WeakMap<BaseAudioContext, Promise<void>>();

function once(cache: WeakMap<BaseAudioContext, Promise<void>>, context: BaseAudioContext, load: () => Promise<void>): Promise<void> {
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
  return once(loaded, context, () =>
    addFirst(context, workletSource, options.workletUrl ? [['workletUrl', options.workletUrl]] : [], (tried) =>
      // Chromium reports a CSP refusal only as "AbortError: Unable to load a worklet's module"; the
      // real reason is in the browser console. Say what would fix it.
      'Could not load the talstream AudioWorklet. If the page has a Content-Security-Policy, add `blob:` to ' +
      'script-src (or worker-src), or self-host dist/talstream.worklet.js and pass its URL as `workletUrl`. ' +
      `Tried: ${tried}`,
    ),
  );
}

/**
 * Adds the echo module (a conversation's canceller and near-end detector) to `context.audioWorklet`,
 * once per context. The ESM build imports its source (a chunk of its own) and tries blob: and data:
 * URLs; then `talstream.echo-worklet.js` beside `workletUrl`, then beside the script-tag bundle.
 */
export function loadEchoWorklet(context: BaseAudioContext, options: WorkletLoadOptions = {}): Promise<void> {
  return once(echoLoaded, context, async () => {
    const echo = (await import('talstream:echo-worklet')).default;
    const urls: Array<[string, string]> = [];
    if (options.workletUrl) urls.push([`beside workletUrl`, resolveBeside(options.workletUrl)]);
    if (echo.url) urls.push([`beside the script`, echo.url]);
    await addFirst(context, echo.source, urls, (tried) =>
      `Could not load talstream's echo worklet (${ECHO_FILE}), which hands-free conversations need. ` +
      'Serve it from dist/ beside talstream.iife.js (or beside `workletUrl`); under a Content-Security-Policy ' +
      `allow its origin in script-src. Tried: ${tried}`,
    );
  });
}

function resolveBeside(url: string): string {
  try {
    return new URL(ECHO_FILE, new URL(url, typeof location !== 'undefined' ? location.href : undefined)).href;
  } catch {
    return url.replace(/[^/]*$/, ECHO_FILE);
  }
}

/** addModule() the source (blob:, then data:), then each URL, until one loads. */
async function addFirst(
  context: BaseAudioContext,
  source: string | null,
  urls: Array<[string, string]>,
  advice: (tried: string) => string,
): Promise<void> {
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
        if (await attempt('blob: URL', blobUrl)) return;
      } finally {
        URL.revokeObjectURL(blobUrl);
      }
    }
    if (await attempt('data: URL', 'data:text/javascript;charset=utf-8,' + encodeURIComponent(source))) return;
  }
  for (const [label, url] of urls) if (await attempt(`${label} ${url}`, url)) return;
  throw new TalStreamError('worklet-load', advice(failures.length ? failures.join('; ') : 'nothing (no source, no URL)'));
}
