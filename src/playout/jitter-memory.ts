/**
 * `jitter.persist`: where what the adaptive policy learned is kept between visits. The learning
 * runs on the audio thread, which has no storage and cannot call the page's functions, so the
 * Player resolves the store on the main thread, hands the saved memory to the processor at
 * creation and stores each update the processor posts (once per reply). A PlayoutCore used
 * directly (Node, `simulatePlayout`) calls a get/set store itself.
 */
import type { JitterMemory, JitterStore } from './types';

/** A stored memory: the object itself, or its JSON; null when absent or unreadable. */
export function parseMemory(v: JitterMemory | string | null | undefined): JitterMemory | null {
  if (typeof v !== 'string') return v && typeof v === 'object' ? v : null;
  try {
    const m = JSON.parse(v) as unknown;
    return m && typeof m === 'object' ? (m as JitterMemory) : null;
  } catch {
    return null;
  }
}

/**
 * The store `persist` names: a get/set pair as given, a string as that `localStorage` key (JSON),
 * null when there is none or storage is unavailable (private mode, a worker): then nothing persists.
 * A store that throws is treated as empty (get) or ignored (set): persistence never breaks playback.
 */
export function resolveStore(persist: string | JitterStore | undefined): JitterStore | null {
  if (persist === undefined) return null;
  if (typeof persist === 'object' && persist && typeof persist.get === 'function' && typeof persist.set === 'function') {
    return {
      get: () => {
        try {
          return persist.get();
        } catch {
          return null;
        }
      },
      set: (m) => {
        try {
          persist.set(m);
        } catch {
          // a full or failing store: keep playing
        }
      },
    };
  }
  if (typeof persist !== 'string' || persist === '') return null;
  let storage: Storage | undefined;
  try {
    storage = (globalThis as { localStorage?: Storage }).localStorage;
  } catch {
    storage = undefined; // access can throw (sandboxed frames, disabled cookies)
  }
  if (!storage) return null;
  const s = storage;
  return resolveStore({ get: () => s.getItem(persist), set: (m) => s.setItem(persist, JSON.stringify(m)) });
}
