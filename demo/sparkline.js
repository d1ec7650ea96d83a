// A scrolling sparkline of the playback buffer depth (solid) and the jitter buffer's target
// (dashed) over the last `windowMs`, drawn on a canvas at the device's pixel ratio.
// Classic script: defines `window.createSparkline(canvas, { windowMs })`.
(() => {
  'use strict';

  window.createSparkline = function createSparkline(canvas, { windowMs = 10_000 } = {}) {
    const history = [];
    let queued = false;

    function draw() {
      const dpr = window.devicePixelRatio || 1;
      const w = canvas.clientWidth || 320;
      const h = canvas.clientHeight || 64;
      if (canvas.width !== Math.round(w * dpr)) canvas.width = Math.round(w * dpr);
      if (canvas.height !== Math.round(h * dpr)) canvas.height = Math.round(h * dpr);
      const g = canvas.getContext('2d');
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.clearRect(0, 0, w, h);
      const now = performance.now();
      while (history.length && history[0].t < now - windowMs) history.shift();
      if (history.length < 2) return;
      const top = Math.max(100, ...history.map((p) => Math.max(p.depth, p.target))) * 1.15;
      const x = (t) => w - ((now - t) / windowMs) * w;
      const y = (v) => h - 4 - (v / top) * (h - 8);
      const line = (key, color, dash) => {
        g.beginPath();
        g.setLineDash(dash);
        g.strokeStyle = color;
        g.lineWidth = 2;
        history.forEach((p, i) => (i ? g.lineTo(x(p.t), y(p[key])) : g.moveTo(x(p.t), y(p[key]))));
        g.stroke();
      };
      line('target', '#1f8a5b', [4, 4]);
      line('depth', '#2857d8', []);
    }

    function drawSoon() {
      if (queued) return;
      queued = true;
      requestAnimationFrame(() => {
        queued = false;
        draw();
      });
    }

    // Keep it scrolling while there is something to show; idle otherwise.
    setInterval(() => history.length && drawSoon(), 250);

    return {
      /** Adds a point (ms values) and redraws on the next animation frame. */
      push(depth, target) {
        history.push({ t: performance.now(), depth, target });
        drawSoon();
      },
    };
  };
})();
