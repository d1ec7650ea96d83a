// What the browser engines need from a desktop, started for the test run and stopped after it:
// a PulseAudio sound server (Firefox's AudioContext kills its tab without one; WebKitGTK plays
// through it) with a null output sink, three microphones that Firefox opens as real capture devices
// (it has no file input for a fake one), and an X server for WebKitGTK's MiniBrowser.
// Each microphone is the monitor of a null sink into which `pacat` plays a 440 Hz sine of
// amplitude 0.5 at 48 kHz, like Chromium's fake WAV. (PulseAudio's own module-sine-source reaches
// Firefox in bursts: one 200 ms stretch of audio in every 2 s, zeros between, measured here.)
// Started by pid; a sound server already running is used as it is (only what was loaded here is
// unloaded again).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';

/** The microphones' sinks; the capture devices are their monitors (`<name>.monitor`). */
export const MIC_SINKS = ['talstream-mic', 'talstream-mic-2', 'talstream-mic-3'];
const MIC_RATE = 48000;
const MIC_HZ = 440;
const MIC_AMP = 0.5;

/** An endless 440 Hz sine as float32 LE, produced as fast as the reader (pacat, real time) reads. */
function sine() {
  let n = 0;
  return new Readable({
    read() {
      const block = Buffer.alloc(4800 * 4);
      for (let i = 0; i < 4800; i++, n++) block.writeFloatLE(MIC_AMP * Math.sin((2 * Math.PI * MIC_HZ * (n % MIC_RATE)) / MIC_RATE), i * 4);
      this.push(block);
    },
  });
}

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
  // Sinks of ours left by a run that was killed: two sines in one sink sum to any level.
  for (const line of pactl('list', 'short', 'modules').out.split('\n')) {
    const [index, name, args = ''] = line.split('\t');
    if (name === 'module-null-sink' && /sink_name=talstream-/.test(args)) pactl('unload-module', index);
  }
  const before = { sink: pactl('get-default-sink').out, source: pactl('get-default-source').out };
  // (The output first: with it loaded after the microphones, the first pacat's stream was found
  // playing into it instead.) Engines list the output's monitor as an input too, first.
  // Not suspended when idle (module-suspend-on-idle), though a desktop's sound server is: an idle
  // null sink renders on a 2 s timer, so each stream that joins it (every AudioContext Firefox
  // starts or resumes, every microphone it opens) begins 1.7-2 s late, some 150 s of Firefox's
  // 400 in CI. Starting at once, Firefox's input has holes (engine note 10) that fail the
  // microphone tests' level and frequency checks now and then, WebKit's page crashed in 2 of 3
  // CI runs (note 6) and its MediaStream loop drifted less than its probe looked for (note 7).
  load('module-null-sink', 'sink_name=talstream-out', 'sink_properties=device.description=talstream-out');
  const feeders = [];
  for (const name of MIC_SINKS) {
    load('module-null-sink', `sink_name=${name}`, `rate=${MIC_RATE}`, 'channels=1', `sink_properties=device.description=${name}`);
    const pacat = spawn('pacat', [`--device=${name}`, '--format=float32le', `--rate=${MIC_RATE}`, '--channels=1', '--latency-msec=200'], { stdio: ['pipe', 'ignore', 'ignore'] });
    pacat.stdin.on('error', () => {}); // EPIPE when it is stopped
    sine().pipe(pacat.stdin);
    feeders.push(stopper(pacat));
  }
  pactl('set-default-sink', 'talstream-out');
  pactl('set-default-source', `${MIC_SINKS[0]}.monitor`);
  return async () => {
    for (const stop of feeders) await stop();
    for (const m of modules.reverse()) pactl('unload-module', m);
    if (before.sink) pactl('set-default-sink', before.sink);
    if (before.source) pactl('set-default-source', before.source);
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
