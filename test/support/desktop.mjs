// What the browser engines need from a desktop, started for the test run and stopped after it:
// a PulseAudio sound server (Firefox's AudioContext kills its tab without one; WebKitGTK plays
// through it) with a null output sink and two 440 Hz sine sources that Firefox opens as real
// microphones (it has no file input for a fake one), and an X server for WebKitGTK's MiniBrowser.
// Started by pid; one already running is used as it is (only the modules loaded here are unloaded).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** The microphones Firefox gets: PulseAudio sources named like this (440 Hz sine, amplitude 0.5). */
export const MIC_SOURCES = ['talstream-mic', 'talstream-mic-2'];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function pactl(...args) {
  const r = spawnSync('pactl', args, { encoding: 'utf8' });
  return { ok: r.status === 0, out: (r.stdout ?? '').trim(), err: (r.stderr ?? '').trim() };
}

async function until(what, fn, ms) {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`${what} did not come up within ${ms} ms`);
    await sleep(50);
  }
}

function stopper(child) {
  return async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
}

/** Starts PulseAudio (unless one answers) and loads the sink and sources; returns the stop. */
export async function startSoundServer() {
  let stopServer = async () => {};
  if (!pactl('info').ok) {
    const child = spawn('pulseaudio', ['-n', '--exit-idle-time=-1', '--disallow-exit', '--daemonize=no',
      '--load=module-native-protocol-unix', '--log-target=stderr', '--log-level=error'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d) => { log = (log + d).slice(-2000); });
    child.once('error', (e) => { log += String(e); });
    await until('pulseaudio', () => pactl('info').ok || child.exitCode !== null, 10_000);
    if (child.exitCode !== null) throw new Error(`pulseaudio exited: ${log}`);
    stopServer = stopper(child);
  }
  const modules = [];
  const load = (...args) => {
    const r = pactl('load-module', ...args);
    if (!r.ok) throw new Error(`pactl load-module ${args.join(' ')}: ${r.err}`);
    modules.push(r.out);
  };
  const before = pactl('get-default-source').out;
  load('module-null-sink', 'sink_name=talstream-out');
  for (const name of MIC_SOURCES) load('module-sine-source', `source_name=${name}`, 'frequency=440', 'rate=48000');
  pactl('set-default-sink', 'talstream-out');
  pactl('set-default-source', MIC_SOURCES[0]);
  return async () => {
    for (const m of modules.reverse()) pactl('unload-module', m);
    if (before) pactl('set-default-source', before);
    await stopServer();
  };
}

/** Starts Xvfb on a free display unless DISPLAY is set; returns the stop. */
export async function startDisplay() {
  if (process.env.DISPLAY) return async () => {};
  let n = 99;
  while (existsSync(`/tmp/.X11-unix/X${n}`) || existsSync(`/tmp/.X${n}-lock`)) n++;
  const child = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
  await until('Xvfb', () => existsSync(`/tmp/.X11-unix/X${n}`) || child.exitCode !== null, 10_000);
  if (child.exitCode !== null) throw new Error(`Xvfb :${n} exited with ${child.exitCode}`);
  process.env.DISPLAY = `:${n}`;
  const stop = stopper(child);
  return async () => {
    await stop();
    delete process.env.DISPLAY;
  };
}
