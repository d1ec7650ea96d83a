// Counters for soak tests, installed on the page's globals before the SDK creates anything:
// AudioContexts and AudioWorkletNodes constructed (the constructors are wrapped), MediaStreamTracks
// opened and live (getUserMedia wrapped), and event listeners on long-lived targets
// (addEventListener wrapped). Used by soak-asks and conversation-soak.

/** Counters installed on the page's globals before the client exists; `restore()` undoes them. */
export function instrument() {
  const counts = { contexts: 0, contextsClosed: 0, workletNodes: 0, tracks: 0, listeners: 0 };
  const liveTracks = new Set<MediaStreamTrack>();
  const g = globalThis as unknown as Record<string, unknown>;
  const RealContext = AudioContext;
  const RealNode = AudioWorkletNode;
  g.AudioContext = class extends RealContext {
    constructor(o?: AudioContextOptions) {
      super(o);
      counts.contexts++;
      this.addEventListener('statechange', () => this.state === 'closed' && counts.contextsClosed++);
    }
  };
  g.AudioWorkletNode = class extends RealNode {
    constructor(c: BaseAudioContext, name: string, o?: AudioWorkletNodeOptions) {
      super(c, name, o);
      counts.workletNodes++;
    }
  };
  const media = navigator.mediaDevices;
  const realGum = media.getUserMedia.bind(media);
  media.getUserMedia = async (c?: MediaStreamConstraints) => {
    const s = await realGum(c);
    for (const t of s.getTracks()) {
      counts.tracks++;
      liveTracks.add(t);
    }
    return s;
  };
  // Listeners on targets that live as long as the page or the client: net adds - removes.
  const longLived = (t: EventTarget) =>
    t === window || t === document || t === media || t instanceof BaseAudioContext || t instanceof MediaStreamTrack;
  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const registered = new Map<EventTarget, Set<string>>();
  const ids = new WeakMap<object, number>();
  let nextId = 0;
  const key = (type: string, l: unknown, o?: boolean | AddEventListenerOptions) => {
    const fn = l as object;
    if (!ids.has(fn)) ids.set(fn, ++nextId);
    return `${type}|${ids.get(fn)}|${typeof o === 'boolean' ? o : !!o?.capture}`;
  };
  proto.addEventListener = function (this: EventTarget, type: string, l: EventListenerOrEventListenerObject | null, o?: boolean | AddEventListenerOptions) {
    if (l && longLived(this) && !(typeof o === 'object' && o?.once)) {
      let set = registered.get(this);
      if (!set) registered.set(this, (set = new Set()));
      set.add(key(type, l, o));
    }
    return add.call(this, type, l, o);
  };
  proto.removeEventListener = function (this: EventTarget, type: string, l: EventListenerOrEventListenerObject | null, o?: boolean | EventListenerOptions) {
    if (l) registered.get(this)?.delete(key(type, l, o as boolean | AddEventListenerOptions));
    return remove.call(this, type, l, o);
  };
  return {
    counts,
    /** Net listeners on long-lived targets (ended tracks and closed contexts excluded). */
    listeners() {
      let n = 0;
      for (const [t, set] of registered) {
        if (t instanceof MediaStreamTrack && t.readyState === 'ended') continue;
        if (t instanceof BaseAudioContext && t.state === 'closed') continue;
        n += set.size;
      }
      return n;
    },
    liveTracks: () => [...liveTracks].filter((t) => t.readyState === 'live').length,
    restore() {
      g.AudioContext = RealContext;
      g.AudioWorkletNode = RealNode;
      media.getUserMedia = realGum;
      proto.addEventListener = add;
      proto.removeEventListener = remove;
    },
  };
}
