// Watches the output device of an AudioContext that plays to a chosen device (`setSinkId`): when
// that device disappears (unplugged headset, Bluetooth gone) or the context reports an output
// failure, the context is moved back to the system default so replies stay audible, and the owner
// is told. A context on the default device needs nothing: the browser follows the default itself.
import { TalStreamError } from '../errors';

/** An AudioContext with the output-device API (Chromium 110+); absent members are feature-tested. */
type SinkContext = AudioContext & {
  sinkId?: string | { type: string };
  setSinkId?: (id: string) => Promise<void>;
};

export interface OutputWatchHandlers {
  /** The chosen device `lostSinkId` is gone; the context now plays to the default device. */
  lost(lostSinkId: string): void;
  /** Moving back to the default failed, or the context reported an output error. */
  error(error: TalStreamError): void;
}

/**
 * Starts watching; returns the function that stops. Does nothing (and returns a no-op) where the
 * context cannot choose its output or there is no `mediaDevices` to ask.
 */
export function watchOutput(ctx: BaseAudioContext, media: MediaDevices | null | undefined, on: OutputWatchHandlers): () => void {
  const live = ctx as SinkContext;
  if (typeof live.setSinkId !== 'function') return () => {};
  let checking = false;
  let stopped = false;
  const check = async () => {
    const id = live.sinkId;
    // '' is the default device; an object ({ type: 'none' }) is no device at all, by choice.
    if (checking || stopped || typeof id !== 'string' || id === '' || !media) return;
    checking = true;
    try {
      const devices = await media.enumerateDevices();
      if (stopped || live.sinkId !== id || devices.some((d) => d.kind === 'audiooutput' && d.deviceId === id)) return;
      await live.setSinkId!('');
      if (!stopped) on.lost(id);
    } catch (cause) {
      if (!stopped) on.error(new TalStreamError('audio-context', `could not move the audio output back to the default device: ${(cause as Error)?.message ?? cause}`, { cause }));
    } finally {
      checking = false;
    }
  };
  const onDeviceChange = () => void check();
  const onError = (e: Event) => {
    const why = (e as ErrorEvent).message || 'the audio output device failed';
    on.error(new TalStreamError('audio-context', `AudioContext error: ${why}`));
    void check();
  };
  media?.addEventListener('devicechange', onDeviceChange);
  live.addEventListener('error', onError);
  return () => {
    stopped = true;
    media?.removeEventListener('devicechange', onDeviceChange);
    live.removeEventListener('error', onError);
  };
}
