// Where a recording is audible: shared by the end-to-end tests that tap what the page played
// (in the browser and from Playwright), so they judge "sound" by the same rule.

/** The span [first, last] of samples louder than `threshold` ({ start: -1, end: -1 } if none). */
export function audibleSpan(x: Float32Array, threshold = 0.02): { start: number; end: number } {
  let start = -1;
  let end = -1;
  for (let i = 0; i < x.length; i++) {
    if (Math.abs(x[i]!) > threshold) {
      if (start < 0) start = i;
      end = i;
    }
  }
  return { start, end };
}
