// Types of test-mics.mjs.

/** The microphone of the tests in one engine (browser processing off). */
export interface TestMic {
  /** Where its audio comes from. */
  source: string;
  /** Its steady tone: frequency (Hz), amplitude of that tone, RMS and peak of the whole signal. */
  hz: number;
  /** Every tone in it: the strongest in a stretch of its audio is one of these. */
  tones: number[];
  amp: number;
  rms: number;
  peak: number;
  /** A pure sine (a fit at `hz` leaves < -30 dB): false when other sounds are mixed in. */
  pure: boolean;
}
/** Whether `hz` is one of `mic`'s tones, within `tolerance` Hz. */
export function isMicTone(mic: TestMic, hz: number, tolerance: number): boolean;
export const TEST_MICS: Record<'chromium' | 'firefox' | 'webkit', TestMic>;
