// The talstream demo page: the script-tag build (global `TalStream`) driving a talk button, device
// pickers, a level meter, live captions and playback statistics. Every text from the server goes
// through textContent (never innerHTML); a frame's `url` is shown as text, never followed.
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const ui = {
    talk: $('talk'),
    talkLabel: $('talk-label'),
    hint: $('talk-hint'),
    level: $('level'),
    interrupt: $('interrupt'),
    status: $('status'),
    question: $('question'),
    answer: $('answer'),
    urlRow: $('url-row'),
    url: $('url'),
    textForm: $('text-form'),
    typed: $('typed'),
    wav: $('wav'),
    inputDevice: $('input-device'),
    outputDevice: $('output-device'),
    pace: $('pace'),
    jitter: $('jitter'),
    reply: $('reply'),
    endpoint: $('endpoint'),
    firstByte: $('stat-first-byte'),
    firstAudio: $('stat-first-audio'),
    buffer: $('stat-buffer'),
    target: $('stat-target'),
    underruns: $('stat-underruns'),
    frames: $('stat-frames'),
    spark: $('sparkline'),
    conversation: $('conversation'),
    convState: $('conv-state'),
    bargeIns: $('barge-ins'),
  };

  const params = new URLSearchParams(location.search);
  // `?ask=URL` points the page at another server (e.g. the FastAPI example); http(s) only.
  const askBase = (() => {
    const wanted = params.get('ask');
    if (wanted) {
      try {
        const u = new URL(wanted, location.href);
        if (u.protocol === 'http:' || u.protocol === 'https:') return u;
      } catch {
        // fall through to the default
      }
    }
    return new URL('/ask', location.href);
  })();
  // Deep-link presets: ?pace=burst&jitter=4g&reply=tone&mode=toggle&processing=off
  for (const [key, select] of [['pace', ui.pace], ['jitter', ui.jitter], ['reply', ui.reply]]) {
    const v = params.get(key);
    if (v && [...select.options].some((o) => o.value === v)) select.value = v;
  }
  const presetMode = params.get('mode');
  if (presetMode === 'toggle' || presetMode === 'handsfree') document.querySelector(`input[name="mode"][value="${presetMode}"]`).checked = true;
  // Voice processing (echo cancellation etc.) helps with speakers; tests with a fake mic turn it off.
  const processing = params.get('processing') !== 'off';

  /** The endpoint for the next ask, with the pacing/network/reply choices as query parameters. */
  function endpoint() {
    const u = new URL(askBase.href);
    u.searchParams.set('pace', ui.pace.value);
    if (ui.jitter.value === 'none') u.searchParams.delete('jitter');
    else u.searchParams.set('jitter', ui.jitter.value);
    u.searchParams.set('reply', ui.reply.value);
    // ?url= on the page is passed on: the reference server then sends it as the reply's action URL.
    if (params.get('url')) u.searchParams.set('url', params.get('url'));
    return u.href;
  }
  const showEndpoint = () => (ui.endpoint.textContent = endpoint());
  for (const s of [ui.pace, ui.jitter, ui.reply]) s.addEventListener('change', showEndpoint);
  showEndpoint();

  let context = null;
  let output = null;
  let client = null;
  let mic = null;
  let take = null;
  let starting = null;
  let convo = null;

  function setStatus(text, isError = false) {
    ui.status.textContent = text;
    ui.status.classList.toggle('error', isError);
  }

  function describeError(e) {
    if (e && typeof e.code === 'string') {
      const at = typeof e.offset === 'number' ? ` at byte ${e.offset}` : '';
      return `${e.code}${at}: ${e.message}`;
    }
    return String((e && e.message) || e);
  }

  // The reply being shown, its captions and statistics (reply-view.js).
  const view = window.createReplyView(ui, { setStatus, describeError });

  /** First gesture: the AudioContext (ours, so that setSinkId and the output node are ours), the client. */
  // Audio first, on the page's first gesture: Safari (WebKit) starts an AudioContext only inside
  // a gesture, and a WAV file's 'change' or a form's 'submit' comes too late for that.
  let audioStarting = null;
  function audio() {
    if (audioStarting) return audioStarting;
    audioStarting = (async () => {
      if (typeof TalStream === 'undefined') throw new Error('dist/talstream.iife.js did not load: run `npm run build`');
      context = new AudioContext({ latencyHint: 'interactive' });
      output = context.createGain();
      output.connect(context.destination);
      client = TalStream.createClient({ url: askBase.href, audioContext: context, destination: output });
      client.on('stats', view.onStats);
      client.on('error', (e) => setStatus(describeError(e), true));
      // Exposed for debugging in the console (and for tests that tap what plays).
      window.talstreamDemo = { client, context, output };
      await client.unlock();
      await listOutputs();
    })();
    audioStarting.catch((e) => {
      audioStarting = null;
      setStatus(describeError(e), true);
    });
    return audioStarting;
  }
  for (const type of ['pointerdown', 'keydown']) {
    document.addEventListener(type, () => audio().catch(() => {}), { capture: true, once: true });
  }

  // Audio and the microphone: for talking.
  function ready() {
    if (starting) return starting;
    starting = (async () => {
      await audio();
      try {
        await openMic(ui.inputDevice.value || undefined);
      } catch (e) {
        setStatus(`Microphone: ${describeError(e)}. You can still type a question or send a WAV file.`, true);
      }
      await listOutputs(); // device labels come with the microphone's permission
    })();
    starting.catch((e) => {
      starting = null;
      setStatus(describeError(e), true);
    });
    return starting;
  }

  async function openMic(deviceId) {
    if (mic) mic.destroy();
    mic = await client.microphone({
      deviceId,
      echoCancellation: processing,
      noiseSuppression: processing,
      autoGainControl: processing,
    });
    mic.on('level', ({ peak }) => {
      ui.level.value = Math.min(1, peak);
      ui.level.textContent = `${Math.round(peak * 100)}%`;
    });
    mic.on('devicechange', ({ devices }) => fillInputs(devices));
    mic.on('fallback', () => setStatus('The microphone went away; using the default one.'));
    fillInputs(await mic.devices());
  }

  function fillSelect(select, devices, fallbackLabel) {
    const keep = select.value;
    select.replaceChildren();
    const def = document.createElement('option');
    def.value = '';
    def.textContent = 'Default';
    select.append(def);
    devices.forEach((d, i) => {
      if (!d.deviceId || d.deviceId === 'default') return;
      const o = document.createElement('option');
      o.value = d.deviceId;
      o.textContent = d.label || `${fallbackLabel} ${i + 1}`;
      select.append(o);
    });
    if ([...select.options].some((o) => o.value === keep)) select.value = keep;
  }
  const fillInputs = (devices) => fillSelect(ui.inputDevice, devices, 'Microphone');

  async function listOutputs() {
    if (typeof context.setSinkId !== 'function') {
      ui.outputDevice.disabled = true;
      ui.outputDevice.title = 'This browser cannot choose the output device of an AudioContext';
      return;
    }
    const all = await navigator.mediaDevices.enumerateDevices();
    fillSelect(ui.outputDevice, all.filter((d) => d.kind === 'audiooutput'), 'Speaker');
  }

  ui.inputDevice.addEventListener('change', async () => {
    if (!client) return;
    try {
      if (mic) await mic.setDevice(ui.inputDevice.value || undefined);
      else await openMic(ui.inputDevice.value || undefined);
    } catch (e) {
      setStatus(`Microphone: ${describeError(e)}`, true);
    }
  });
  ui.outputDevice.addEventListener('change', async () => {
    if (!context || typeof context.setSinkId !== 'function') return;
    try {
      await context.setSinkId(ui.outputDevice.value);
    } catch (e) {
      setStatus(`Speaker: ${describeError(e)}`, true);
    }
  });

  // ---- talking -----------------------------------------------------------------------------

  const mode = () => document.querySelector('input[name="mode"]:checked').value;
  function syncModeText() {
    const hold = mode() === 'hold';
    ui.conversation.hidden = mode() !== 'handsfree';
    if (mode() === 'handsfree') {
      ui.talkLabel.textContent = convo ? 'Stop conversation' : 'Start conversation';
      ui.hint.textContent = 'Just talk; speak over the answer to cut it. Space / Enter starts and stops.';
      return;
    }
    ui.talkLabel.textContent = take ? (hold ? 'Release to send' : 'Click to send') : hold ? 'Hold to talk' : 'Click to talk';
    ui.hint.textContent = hold
      ? 'Hold the button, or Space / Enter, while you speak.'
      : 'Click (or Space / Enter) to start, again to send.';
  }
  for (const r of document.querySelectorAll('input[name="mode"]')) {
    r.addEventListener('change', () => {
      if (mode() !== 'handsfree' && convo) stopConversation();
      syncModeText();
    });
  }
  syncModeText();

  // ---- hands-free --------------------------------------------------------------------------

  const STATE_TEXT = { listening: 'listening', 'user-speaking': 'you', thinking: 'thinking…', speaking: 'speaking', paused: 'paused', stopped: 'off' };
  async function startConversation() {
    await ready();
    if (!mic || convo) return;
    ui.bargeIns.replaceChildren();
    // The page's microphone is lent to the conversation (it stays the page's: the device picker
    // keeps working); every turn goes to the endpoint the selectors make.
    const c = client.converse({ microphone: mic, url: endpoint() });
    convo = c;
    ui.talk.setAttribute('aria-pressed', 'true');
    syncModeText();
    c.on('state', ({ state }) => {
      ui.convState.textContent = STATE_TEXT[state] || state;
      if (state === 'user-speaking') setStatus('Listening to you…');
    });
    c.on('turn', ({ reply }) => view.watch(reply));
    c.on('barge-in', ({ position }) => {
      const li = document.createElement('li');
      li.textContent = `You cut the answer after ${(position.playedMs / 1000).toFixed(2)} s (frame ${position.order}).`;
      ui.bargeIns.append(li);
    });
    c.on('error', (e) => setStatus(describeError(e), true));
    try {
      await c.ready;
      ui.convState.textContent = STATE_TEXT[c.state];
      setStatus('Hands-free: just talk.');
    } catch (e) {
      if (convo === c) stopConversation();
      setStatus(describeError(e), true);
    }
  }

  function stopConversation() {
    const c = convo;
    convo = null;
    ui.talk.setAttribute('aria-pressed', 'false');
    ui.convState.textContent = 'off';
    syncModeText();
    if (c) c.stop().catch(() => {});
  }

  const toggleConversation = () => (convo ? stopConversation() : startConversation().catch((err) => setStatus(describeError(err), true)));

  // True from press to release (or click to click): a release during the first set-up cancels.
  let wanted = false;
  async function startTalking() {
    wanted = true;
    if (take) return;
    await ready();
    if (!mic || !wanted || take) return;
    // Barge-in: a new ask interrupts the answer still playing (the client's default).
    take = mic.record();
    ui.talk.setAttribute('aria-pressed', 'true');
    syncModeText();
    setStatus('Listening…');
    const t = take;
    t.done.then(
      (r) => {
        if (r.reason !== 'stop') setStatus(`Sent (${r.reason}).`);
      },
      () => {},
    );
    t.on('end', () => {
      if (take === t) stopUi();
    });
    view.watch(client.ask(t, { url: endpoint(), question: ui.typed.value.trim() || undefined }));
  }

  function stopUi() {
    take = null;
    ui.talk.setAttribute('aria-pressed', 'false');
    syncModeText();
  }

  function stopTalking() {
    wanted = false;
    if (!take) return;
    const t = take;
    stopUi();
    setStatus('Sending…');
    t.stop().catch((e) => setStatus(describeError(e), true));
  }

  // Hold mode: pointer and key down/up. Toggle mode: click (which also covers Space/Enter).
  let holdingKey = null;
  ui.talk.addEventListener('pointerdown', (e) => {
    if (mode() !== 'hold' || e.button !== 0) return;
    ui.talk.setPointerCapture(e.pointerId);
    startTalking().catch((err) => setStatus(describeError(err), true));
  });
  const release = () => mode() === 'hold' && !holdingKey && stopTalking();
  ui.talk.addEventListener('pointerup', release);
  ui.talk.addEventListener('pointercancel', release);
  ui.talk.addEventListener('keydown', (e) => {
    if (e.key !== ' ' && e.key !== 'Enter') return;
    e.preventDefault(); // no synthetic click: keys are handled here
    if (e.repeat) return;
    if (mode() === 'handsfree') toggleConversation();
    else if (mode() === 'hold') {
      holdingKey = e.key;
      startTalking().catch((err) => setStatus(describeError(err), true));
    } else if (take || wanted) stopTalking();
    else startTalking().catch((err) => setStatus(describeError(err), true));
  });
  ui.talk.addEventListener('keyup', (e) => {
    if (mode() === 'hold' && e.key === holdingKey) {
      holdingKey = null;
      stopTalking();
    }
  });
  ui.talk.addEventListener('blur', () => {
    if (holdingKey) {
      holdingKey = null;
      stopTalking();
    }
  });
  ui.talk.addEventListener('click', (e) => {
    if (e.detail === 0) return; // from a key, handled above
    if (mode() === 'handsfree') {
      toggleConversation();
      return;
    }
    if (mode() !== 'toggle') return;
    if (take || wanted) stopTalking();
    else startTalking().catch((err) => setStatus(describeError(err), true));
  });

  ui.textForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const question = ui.typed.value.trim();
    if (!question) return;
    // Before any await: the status of the previous answer ("Done: ...") must not stand for this one.
    setStatus('Sending…');
    await audio();
    view.watch(client.ask(null, { url: endpoint(), question }));
  });

  ui.wav.addEventListener('change', async () => {
    const file = ui.wav.files && ui.wav.files[0];
    if (!file) return;
    setStatus(`Sending ${file.name}…`);
    await audio();
    view.watch(client.ask(file, { url: endpoint(), question: ui.typed.value.trim() || undefined }));
    ui.wav.value = '';
  });

  ui.interrupt.addEventListener('click', async () => {
    const current = view.current;
    if (!current) return;
    const pos = await current.interrupt();
    setStatus(pos ? `Interrupted after ${(pos.playedMs / 1000).toFixed(1)} s.` : 'Interrupted.');
  });
})();
