// The demo's view of the reply being shown: its captions (question, answer, the action URL as text,
// never followed), frame and underrun counts, first byte and first audio, the interrupt button's
// state, and the playback buffer's depth and target with their sparkline. A reply replaced by a
// newer one no longer writes to the page. Every text from the server goes through textContent.
// Classic script: defines `window.createReplyView(ui, { setStatus, describeError })`.
(() => {
  'use strict';

  const ms = (v) => (typeof v === 'number' ? `${Math.round(v)} ms` : '–');
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

  window.createReplyView = function createReplyView(ui, { setStatus, describeError }) {
    let current = null;
    let underruns = 0;
    const sparkline = window.createSparkline(ui.spark, { windowMs: 10_000 });

    function watch(reply) {
      current = reply;
      underruns = 0;
      ui.question.textContent = '';
      ui.answer.textContent = '';
      ui.url.textContent = '';
      ui.urlRow.hidden = true;
      ui.firstByte.textContent = '…';
      ui.firstAudio.textContent = '…';
      ui.underruns.textContent = '0';
      ui.frames.textContent = '0';
      ui.interrupt.disabled = false;
      let frames = 0;
      const mine = () => current === reply;
      reply.on('question', (e) => mine() && (ui.question.textContent = e.text));
      reply.on('text', (e) => mine() && ui.answer.append(document.createTextNode(e.text)));
      reply.on('url', (e) => {
        if (!mine()) return;
        ui.url.textContent = e.url;
        ui.urlRow.hidden = false;
      });
      reply.on('frame', () => mine() && (ui.frames.textContent = String(++frames)));
      reply.on('audio-start', () => mine() && setStatus('Answering…'));
      reply.on('underrun', () => mine() && (ui.underruns.textContent = String(++underruns)));
      reply.done.then(
        (s) => {
          if (!mine()) return;
          ui.firstByte.textContent = ms(s.firstByteMs);
          ui.firstAudio.textContent = ms(s.firstAudioMs);
          ui.underruns.textContent = String(s.underruns);
          ui.frames.textContent = String(s.frames);
          ui.interrupt.disabled = true;
          if (!s.interrupted) setStatus(`Done: ${(s.playedMs / 1000).toFixed(1)} s played.`);
          current = null;
        },
        (e) => {
          if (!mine()) return;
          ui.interrupt.disabled = true;
          ui.firstByte.textContent = '–';
          ui.firstAudio.textContent = '–';
          setStatus(describeError(e), true);
          current = null;
        },
      );
    }

    function onStats(s) {
      const depth = num(s.bufferedMs);
      const target = num(s.targetMs);
      ui.buffer.textContent = ms(depth);
      ui.target.textContent = ms(target);
      sparkline.push(depth ?? 0, target ?? 0);
    }

    return {
      /** Shows `reply` from now on (its events and its end). */
      watch,
      /** The client's 'stats' event: buffer depth and target, and the sparkline. */
      onStats,
      /** The reply being shown, until it ends (null then). */
      get current() {
        return current;
      },
    };
  };
})();
