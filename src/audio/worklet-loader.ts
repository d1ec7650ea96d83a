import workletSource from 'talstream:worklet';
import { TalStreamError } from '../errors';

/** Options for loading talstream's AudioWorklet module. */
export interface WorkletLoadOptions {
  /**
   * URL of a self-hosted copy of `dist/talstream.worklet.js`, tried when the inlined source cannot be
   * loaded from a blob: or data: URL (a Content-Security-Policy without `blob:`/`data:` in `script-src`).
   */
  workletUrl?: string;
}

// One load per context: every processor talstream has lives in the one module.
const loaded = new WeakMap<BaseAudioContext, Promise<void>>();

/**
 * Adds talstream's processors to `context.audioWorklet`, once per context.
 * Tries a blob: URL of the inlined source (revoked in `finally`), then a data: URL, then
 * `workletUrl`. When all fail, rejects with a `worklet-load` TalStreamError that says what to do.
 */
export function loadWorklet(context: BaseAudioContext, options: WorkletLoadOptions = {}): Promise<void> {
  let p = loaded.get(context);
  if (!p) {
    p = loadOnce(context, options);
    loaded.set(context, p);
    // A failed load may be retried later (e.g. with a workletUrl): forget the failure.
    p.catch(() => loaded.delete(context));
  }
  return p;
}

async function loadOnce(context: BaseAudioContext, options: WorkletLoadOptions): Promise<void> {
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
  if (typeof Blob !== 'undefined' && typeof URL !== 'undefined' && typeof URL.createObjectURL === 'function') {
    const blobUrl = URL.createObjectURL(new Blob([workletSource], { type: 'text/javascript' }));
    try {
      if (await attempt('blob: URL', blobUrl)) return;
    } finally {
      URL.revokeObjectURL(blobUrl);
    }
  }
  const dataUrl = 'data:text/javascript;charset=utf-8,' + encodeURIComponent(workletSource);
  if (await attempt('data: URL', dataUrl)) return;
  if (options.workletUrl && (await attempt(`workletUrl ${options.workletUrl}`, options.workletUrl))) return;
  // Chromium reports a CSP refusal only as "AbortError: Unable to load a worklet's module"; the
  // real reason is in the browser console. Say what would fix it.
  throw new TalStreamError(
    'worklet-load',
    'Could not load the talstream AudioWorklet. If the page has a Content-Security-Policy, add `blob:` to ' +
      'script-src (or worker-src), or self-host dist/talstream.worklet.js and pass its URL as `workletUrl`. ' +
      `Tried: ${failures.join('; ')}`,
  );
}
