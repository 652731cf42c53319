// chart.js -- a small hand-drawn SVG chart of speed over time for the track replay: the speed line
// (broken across gaps in reporting), stops as shaded bands, positions sent late ("blind" area)
// marked, time ticks in Beijing time (UTC+8), and a cursor that follows the replay time. Pressing
// or dragging on the chart seeks (onSeek); no chart library, no inline styles (CSP).

const NS = 'http://www.w3.org/2000/svg';
const MARGIN = { left: 36, right: 12, top: 10, bottom: 20 };
const HOUR = 3600_000;
const MINUTE = 60_000;
// Tick steps for the time axis, smallest first.
const TIME_STEPS = [10_000, 30_000, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, 24 * HOUR, 48 * HOUR, 7 * 24 * HOUR];
const BJ = 8 * HOUR; // Beijing time has had no daylight saving time since 1991

function svg(tag, attrs, className) {
  const e = document.createElementNS(NS, tag);
  if (className) e.setAttribute('class', className);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  return e;
}

/** "HH:MM" ("HH:MM:SS" with SECONDS, "MM-DD HH:MM" with DATE) of epoch MS in Beijing time. */
export function beijingClock(ms, date = false, seconds = false) {
  const s = new Date(ms + BJ).toISOString();
  if (date) return `${s.slice(5, 10)} ${s.slice(11, 16)}`;
  return seconds ? s.slice(11, 19) : s.slice(11, 16);
}

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/**
 * Create the chart in CONTAINER. LABELS is fn() -> {unit, title} (re-read on every draw, for the
 * language switch); ONSEEK(ms) is called when the user presses or drags on the chart.
 */
export function createSpeedChart(container, { onSeek, labels }) {
  let data = null; // {t0, t1, points: [{t, v, blind}], stops: [{start, end}]}
  let cursor = null; // ms or null
  let size = { w: 0, h: 0 };
  let root = null;
  let cursorLine = null;
  let cursorDot = null;
  let xOf = () => 0;
  let yOf = () => 0;
  let tOfX = () => 0;
  let dragging = false;

  function measure() {
    const r = container.getBoundingClientRect();
    return { w: Math.max(120, Math.floor(r.width)), h: Math.max(60, Math.floor(r.height)) };
  }

  /** The speed at time MS, interpolated between the two points around it (null in a gap). */
  function speedAt(ms) {
    const p = data?.points;
    if (!p || !p.length) return null;
    let lo = 0;
    let hi = p.length - 1;
    if (ms <= p[0].t) return p[0].v;
    if (ms >= p[hi].t) return p[hi].v;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (p[mid].t <= ms) lo = mid;
      else hi = mid;
    }
    const a = p[lo];
    const b = p[hi];
    if (a.v === null || b.v === null) return a.v ?? b.v;
    return a.v + ((b.v - a.v) * (ms - a.t)) / Math.max(1, b.t - a.t);
  }

  function draw() {
    size = measure();
    const { w, h } = size;
    const lab = labels ? labels() : { unit: 'kn', title: '' };
    root = svg('svg', { width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img' }, 'speed-chart');
    root.setAttribute('aria-label', lab.title || '');
    container.replaceChildren(root);
    cursorLine = null;
    cursorDot = null;
    if (!data) return;
    const x0 = MARGIN.left;
    const x1 = w - MARGIN.right;
    const y0 = h - MARGIN.bottom;
    const y1 = MARGIN.top;
    const span = Math.max(1000, data.t1 - data.t0);
    const vmaxData = Math.max(0, ...data.points.map((p) => (Number.isFinite(p.v) ? p.v : 0)));
    const ystep = niceStep(Math.max(2, vmaxData * 1.1), 3);
    const vmax = Math.max(ystep, Math.ceil((Math.max(2, vmaxData * 1.1)) / ystep) * ystep);
    xOf = (ms) => x0 + ((ms - data.t0) / span) * (x1 - x0);
    yOf = (v) => y0 - (v / vmax) * (y0 - y1);
    tOfX = (x) => data.t0 + ((Math.min(x1, Math.max(x0, x)) - x0) / (x1 - x0)) * span;

    // Background and the plot frame.
    root.append(svg('rect', { x: x0, y: y1, width: Math.max(0, x1 - x0), height: Math.max(0, y0 - y1) }, 'chart-plot'));
    // Stops: shaded bands behind everything.
    for (const s of data.stops) {
      const a = Math.max(x0, xOf(s.start));
      const b = Math.min(x1, xOf(s.end));
      if (b - a < 0.5) continue;
      root.append(svg('rect', { x: a, y: y1, width: b - a, height: y0 - y1 }, 'chart-stop'));
    }
    // Speed grid and labels.
    for (let v = 0; v <= vmax + 1e-9; v += ystep) {
      const y = yOf(v);
      root.append(svg('line', { x1: x0, x2: x1, y1: y, y2: y }, v === 0 ? 'chart-axis' : 'chart-grid'));
      const label = svg('text', { x: x0 - 4, y: y + 3.5, 'text-anchor': 'end' }, 'chart-label');
      label.textContent = String(Math.round(v * 10) / 10);
      root.append(label);
    }
    const unit = svg('text', { x: 2, y: y1 + 2, 'dominant-baseline': 'hanging' }, 'chart-label chart-unit');
    unit.textContent = lab.unit;
    root.append(unit);
    // Time ticks in Beijing time, on round local times.
    const minGap = 70;
    const step = TIME_STEPS.find((s) => (s / span) * (x1 - x0) >= minGap) || TIME_STEPS[TIME_STEPS.length - 1];
    const first = Math.ceil((data.t0 + BJ) / step) * step - BJ;
    const withDate = span > 20 * HOUR;
    for (let ms = first; ms <= data.t1; ms += step) {
      const x = xOf(ms);
      root.append(svg('line', { x1: x, x2: x, y1: y0, y2: y0 + 4 }, 'chart-axis'));
      root.append(svg('line', { x1: x, x2: x, y1, y2: y0 }, 'chart-grid chart-vgrid'));
      const label = svg('text', { x, y: h - 5, 'text-anchor': 'middle' }, 'chart-label');
      const midnight = ((ms + BJ) % (24 * HOUR)) === 0;
      label.textContent = beijingClock(ms, withDate && (midnight || step >= 24 * HOUR), step < MINUTE);
      root.append(label);
    }
    // The speed line, broken where reporting stopped for long (a gap, not a slow-down).
    const pts = data.points.filter((p) => Number.isFinite(p.v));
    if (pts.length) {
      const dts = [];
      for (let i = 1; i < pts.length; i++) dts.push(pts[i].t - pts[i - 1].t);
      dts.sort((a, b) => a - b);
      const median = dts.length ? dts[dts.length >> 1] : 0;
      const gap = Math.max(5 * MINUTE, median * 10);
      let d = '';
      // Many points per pixel: keep each pixel column's first, min, max and last.
      const dense = pts.length > (x1 - x0) * 3;
      let col = null;
      const flushCol = () => {
        if (!col) return;
        const seq = [col.first, col.min, col.max, col.last];
        if (col.minAt > col.maxAt) [seq[1], seq[2]] = [seq[2], seq[1]];
        for (const v of seq) d += `L${col.x.toFixed(1)},${yOf(v).toFixed(1)}`;
        col = null;
      };
      let prev = null;
      for (const p of pts) {
        const x = xOf(p.t);
        const broken = !prev || p.t - prev.t > gap;
        if (dense) {
          const cx = Math.round(x);
          if (broken) {
            flushCol();
            d += `M${cx},${yOf(p.v).toFixed(1)}`;
          }
          if (col && col.x !== cx) flushCol();
          if (!col) col = { x: cx, first: p.v, min: p.v, max: p.v, last: p.v, minAt: p.t, maxAt: p.t };
          if (p.v < col.min) {
            col.min = p.v;
            col.minAt = p.t;
          }
          if (p.v > col.max) {
            col.max = p.v;
            col.maxAt = p.t;
          }
          col.last = p.v;
        } else {
          d += `${broken ? 'M' : 'L'}${x.toFixed(1)},${yOf(p.v).toFixed(1)}`;
        }
        prev = p;
      }
      flushCol();
      root.append(svg('path', { d }, 'chart-line'));
      if (pts.length <= 1500) {
        for (const p of pts) {
          if (!p.blind) continue;
          root.append(svg('circle', { cx: xOf(p.t), cy: yOf(p.v), r: 2.5 }, 'chart-blind'));
        }
      }
    }
    cursorLine = svg('line', { x1: x0, x2: x0, y1, y2: y0 }, 'chart-cursor');
    cursorDot = svg('circle', { cx: x0, cy: y0, r: 3.5 }, 'chart-cursor-dot');
    root.append(cursorLine, cursorDot);
    placeCursor();
  }

  function placeCursor() {
    if (!cursorLine || !data) return;
    const on = cursor !== null;
    cursorLine.classList.toggle('off', !on);
    cursorDot.classList.toggle('off', !on);
    if (!on) return;
    const x = xOf(cursor).toFixed(1);
    cursorLine.setAttribute('x1', x);
    cursorLine.setAttribute('x2', x);
    const v = speedAt(cursor);
    cursorDot.setAttribute('cx', x);
    cursorDot.setAttribute('cy', yOf(Number.isFinite(v) ? v : 0).toFixed(1));
  }

  function seekFromEvent(ev) {
    if (!data || !root) return;
    const r = root.getBoundingClientRect();
    const ms = tOfX(ev.clientX - r.left);
    if (onSeek) onSeek(ms);
  }

  container.addEventListener('pointerdown', (ev) => {
    if (!data || ev.button !== 0) return;
    dragging = true;
    container.setPointerCapture(ev.pointerId);
    seekFromEvent(ev);
  });
  container.addEventListener('pointermove', (ev) => {
    if (dragging) seekFromEvent(ev);
  });
  const endDrag = (ev) => {
    dragging = false;
    if (container.hasPointerCapture?.(ev.pointerId)) container.releasePointerCapture(ev.pointerId);
  };
  container.addEventListener('pointerup', endDrag);
  container.addEventListener('pointercancel', endDrag);

  let pendingResize = 0;
  const ro = new ResizeObserver(() => {
    if (pendingResize) return;
    pendingResize = requestAnimationFrame(() => {
      pendingResize = 0;
      const m = measure();
      if (m.w !== size.w || m.h !== size.h) draw();
    });
  });
  ro.observe(container);

  return {
    /** Draw DATA: {t0, t1 (ms), points: [{t, v (kn or null), blind}], stops: [{start, end}]}. */
    setData(d) {
      data = d;
      cursor = null;
      draw();
    },
    /** Move the cursor to MS (null hides it). */
    setCursor(ms) {
      cursor = Number.isFinite(ms) ? ms : null;
      placeCursor();
    },
    clear() {
      data = null;
      cursor = null;
      container.replaceChildren();
    },
    redraw: draw,
    speedAt,
    /** For tests: the cursor's x in page pixels, the plot's extent, and what is drawn. */
    snapshot() {
      if (!data || !root) return { drawn: false };
      const r = root.getBoundingClientRect();
      const line = root.querySelector('.chart-line');
      return {
        drawn: true,
        cursorX: cursor === null ? null : r.left + xOf(cursor),
        plotLeft: r.left + MARGIN.left,
        plotRight: r.left + size.w - MARGIN.right,
        top: r.top,
        bottom: r.bottom,
        points: data.points.length,
        stops: root.querySelectorAll('.chart-stop').length,
        pathLength: line ? line.getAttribute('d').length : 0,
      };
    },
  };
}
