// One guard against hangs, for the Node-side drivers (engines.mjs) and the browser tests
// (reliability-helpers.ts) alike.

/**
 * `promise`, or a rejection `<what> still pending after <ms> ms` once `ms` pass without it
 * settling: a hang fails the wait that asked, not the test's timeout. The timer is cleared when it
 * settles, and a rejection that comes after the timeout (a session killed meanwhile) is caught.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} [what]
 * @returns {Promise<T>}
 */
export function within(promise, ms, what = 'promise') {
  let timer;
  promise.catch(() => {});
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
