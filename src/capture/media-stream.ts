/**
 * The microphone's MediaStreams: opening one with the processing switches (getUserMedia errors
 * mapped to TalStreamErrors), and releasing one with the nodes in front of the capture node.
 */
import { TalStreamError } from '../errors';
import type { MicrophoneOptions } from './microphone';

/** Maps a getUserMedia rejection to a TalStreamError. */
export function microphoneError(cause: unknown): TalStreamError {
  if (cause instanceof TalStreamError) return cause;
  const name = (cause as { name?: string })?.name ?? '';
  const msg = (cause as Error)?.message ?? String(cause);
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') {
    return new TalStreamError('permission-denied', `Microphone permission was denied: ${msg}`, { cause });
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return new TalStreamError('no-device', `No microphone matches: ${msg}`, { cause });
  }
  if (name === 'NotReadableError' || name === 'AbortError') {
    return new TalStreamError('no-device', `The microphone could not be opened (in use or failing): ${msg}`, { cause });
  }
  return new TalStreamError('unsupported', `getUserMedia failed: ${name} ${msg}`, { cause });
}

/** A microphone stream and its nodes in front of the capture node. */
export interface Feed {
  source: MediaStreamAudioSourceNode;
  gain: GainNode;
  stream: MediaStream;
}

export function release(feed: Feed): void {
  feed.source.disconnect();
  feed.gain.disconnect();
  stopStream(feed.stream);
}

export function stopStream(stream: MediaStream): void {
  for (const t of stream.getTracks()) t.stop();
}

/** getUserMedia for one mono audio track with the processing switches; errors mapped. */
export async function openStream(media: MediaDevices, options: MicrophoneOptions, deviceId: string | undefined): Promise<MediaStream> {
  const audio: MediaTrackConstraints = {
    channelCount: { ideal: 1 },
    echoCancellation: options.echoCancellation ?? true,
    noiseSuppression: options.noiseSuppression ?? true,
    autoGainControl: options.autoGainControl ?? true,
  };
  // `exact`: a chosen device that is gone must fail (no-device), not silently open another.
  if (deviceId) audio.deviceId = { exact: deviceId };
  try {
    return await media.getUserMedia({ audio, video: false });
  } catch (cause) {
    throw microphoneError(cause);
  }
}
