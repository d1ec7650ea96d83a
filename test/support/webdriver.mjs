// A minimal W3C WebDriver client over plain HTTP+JSON, enough to drive WebKitGTK's MiniBrowser
// through /usr/bin/WebKitWebDriver: new session, navigate, run a script, find an element (also
// inside an iframe), click it, press and release the pointer on it, and send keys. No dependency:
// the protocol is a handful of JSON requests (https://www.w3.org/TR/webdriver2/).
import { spawn } from 'node:child_process';
import net from 'node:net';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';

/** A free loopback port. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {net.AddressInfo} */ (s.address());
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, ms) {
  const until = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`WebDriver did not listen on ${port} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * How long opening a session (launching MiniBrowser) and its first command may take; about 1 s
 * here. In one CI run a launch never answered and the test's beforeEach ran into its 90 s hook
 * timeout; the caller tries once more instead (see `newPage` in engines.mjs).
 */
const SESSION_TIMEOUT_MS = 20_000;

/**
 * Starts `driverPath` on a free port and opens a session with `capabilities`, then sets its
 * `timeouts`; the driver is killed if either does not answer within SESSION_TIMEOUT_MS.
 * @returns {Promise<WebDriverSession>}
 */
export async function startWebDriver(driverPath, capabilities, timeouts, env = process.env) {
  const port = await freePort();
  // WD_LOG=1 shows the driver's and the browser's own output (with GST_DEBUG=3: WebKit's GStreamer).
  const log = process.env.WD_LOG ? 'inherit' : undefined;
  const proc = spawn(driverPath, [`--port=${port}`, '--host=127.0.0.1'], { env, stdio: ['ignore', log ?? 'ignore', log ?? 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  try {
    await waitForPort(port, 10_000);
    const base = `http://127.0.0.1:${port}`;
    const res = await call(base, 'POST', '/session', { capabilities: { alwaysMatch: capabilities } }, SESSION_TIMEOUT_MS);
    await call(base, 'POST', `/session/${res.sessionId}/timeouts`, timeouts, SESSION_TIMEOUT_MS);
    return new WebDriverSession(base, res.sessionId, proc, exited);
  } catch (e) {
    proc.kill('SIGKILL');
    throw new Error(`WebDriver session failed: ${e.message}\n${stderr}`);
  }
}

/** A command's answer; with `ms`, a `TimeoutError` if none comes within that time. */
async function call(base, method, path, body, ms = 0) {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: ms > 0 ? AbortSignal.timeout(ms) : undefined,
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || (json.value && json.value.error)) {
    const v = json.value ?? {};
    const err = new Error(`WebDriver ${method} ${path}: ${v.error ?? res.status}: ${v.message ?? ''}`);
    err.webdriverError = v.error;
    throw err;
  }
  return json.value;
}

export class WebDriverSession {
  constructor(base, id, proc, exited) {
    this.base = base;
    this.id = id;
    this.proc = proc;
    this.exited = exited;
    this.closed = false;
  }

  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  async goto(url) {
    await this.cmd('POST', '/url', { url });
  }

  /** Runs `fn(...args)` in the current browsing context and returns its (awaited) JSON result. */
  async evaluate(fn, args = []) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => (${fn.toString()})(...arguments[0]))
        .then((v) => done({ ok: v === undefined ? null : v }), (e) => done({ err: String(e && e.stack || e) }));`;
    const r = await this.cmd('POST', '/execute/async', { script, args: [args] });
    if (r && 'err' in r) throw new Error(`in page: ${r.err}`);
    return r?.ok;
  }

  async find(selector) {
    const r = await this.cmd('POST', '/element', { using: 'css selector', value: selector });
    return r[ELEMENT];
  }

  /** Makes the iframe matching `selector` the current browsing context (null: the top level). */
  async frame(selector) {
    if (selector === null) return this.cmd('POST', '/frame', { id: null });
    const el = await this.find(selector);
    return this.cmd('POST', '/frame', { id: { [ELEMENT]: el } });
  }

  async click(selector) {
    const el = await this.find(selector);
    await this.cmd('POST', `/element/${el}/click`, {});
  }

  /** Pointer down (or up) at the centre of the element: a press that is held until `pointer('up')`. */
  async pointer(kind, selector) {
    const actions = [];
    if (selector) {
      const el = await this.find(selector);
      actions.push({ type: 'pointerMove', duration: 0, origin: { [ELEMENT]: el }, x: 0, y: 0 });
    }
    actions.push({ type: kind === 'down' ? 'pointerDown' : 'pointerUp', button: 0 });
    await this.cmd('POST', '/actions', { actions: [{ type: 'pointer', id: 'mouse', parameters: { pointerType: 'mouse' }, actions }] });
  }

  async sendKeys(selector, text) {
    const el = await this.find(selector);
    await this.cmd('POST', `/element/${el}/value`, { text });
  }

  async clear(selector) {
    const el = await this.find(selector);
    await this.cmd('POST', `/element/${el}/clear`, {});
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.cmd('DELETE', '').catch(() => {});
    this.proc.kill('SIGTERM');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}
