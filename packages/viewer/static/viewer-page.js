// ksemu view page: draws frames from the WebSocket on a canvas, builds controls, statistics and the filter graph.
/* global document, window, WebSocket, ImageData, Blob, createImageBitmap, performance, location */

const HEADER_BYTES = 40;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** State the end-to-end tests read (window.viewer). */
const state = {
  connected: false,
  init: null,
  running: false,
  format: null,
  framesDrawn: 0,
  lastSequence: -1,
  width: 0,
  height: 0,
  stats: null,
  statsUpdates: 0,
  errors: [],
  properties: new Map(),
  tuner: null,
  pageFps: 0,
};
window.viewer = state;
/** Sends a raw text message as if the page had (tests use it for malformed and out-of-range requests). */
state.sendRaw = (text) => ws && ws.send(text);
/** A checksum of a canvas region: tests compare pictures without shipping pixels around. */
state.checksum = (x = 0, y = 0, w = canvas.width, h = canvas.height) => {
  const d = ctx.getImageData(x, y, w, h).data;
  let a = 1;
  let b = 0;
  for (let i = 0; i < d.length; i++) {
    a = (a + d[i]) % 65521;
    b = (b + a) % 65521;
  }
  return b * 65536 + a;
};

const $ = (id) => document.getElementById(id);
const canvas = $('picture');
const ctx = canvas.getContext('2d', { alpha: false });
let image = null;
let ws = null;
let nextId = 1;
const drawTimes = [];
const drawnAt = [];

function send(message) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ ...message, id: nextId++ }));
}

function showError(text) {
  state.errors.push(text);
  const line = document.createElement('div');
  line.textContent = text;
  const box = $('errors');
  box.append(line);
  while (box.children.length > 5) box.firstChild.remove();
}

function connect() {
  ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  ws.onopen = () => {
    state.connected = true;
    $('connection').textContent = 'connected';
    $('connection').dataset.state = 'open';
  };
  ws.onclose = () => {
    state.connected = false;
    $('connection').textContent = 'disconnected';
    $('connection').dataset.state = 'closed';
  };
  ws.onmessage = (ev) => {
    if (typeof ev.data === 'string') onJson(JSON.parse(ev.data));
    else void onFrame(ev.data);
  };
}

function onJson(m) {
  switch (m.type) {
    case 'init':
      state.init = m;
      $('device-name').textContent = `${m.device.name} (${m.device.id})`;
      document.title = `ksemu view: ${m.device.id}`;
      buildFormats(m.formats);
      buildControls(m.properties);
      drawGraph(m.graph);
      applyState(m.state);
      if (m.tuner) showTuner(m.tuner);
      if (m.stats) showStats(m.stats);
      break;
    case 'state':
      applyState(m.state);
      break;
    case 'property':
      reflectProperty(m.key, m.value, m.mode);
      break;
    case 'stats':
      showStats(m.stats);
      break;
    case 'tuner':
      showTuner(m.tuner);
      break;
    case 'error':
      showError(m.request ? `${m.request}: ${m.error}` : m.error);
      break;
    case 'ok':
      break;
    default:
      showError(`unknown message from the server: ${m.type}`);
  }
}

// ---- frames -------------------------------------------------------------------------------

async function onFrame(buffer) {
  const t0 = performance.now();
  const v = new DataView(buffer);
  if (buffer.byteLength < HEADER_BYTES || v.getUint32(0, true) !== 0x4656534b) {
    showError('bad frame message from the server');
    ack();
    return;
  }
  const sequence = v.getUint32(4, true);
  const width = v.getUint16(8, true);
  const height = v.getUint16(10, true);
  let fourcc = '';
  for (let i = 0; i < 8; i++) {
    const c = v.getUint8(12 + i);
    if (c) fourcc += String.fromCharCode(c);
  }
  const bytes = v.getUint32(20, true);
  const payload = new Uint8Array(buffer, HEADER_BYTES, bytes);
  try {
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    if (fourcc === 'MJPG') {
      const bitmap = await createImageBitmap(new Blob([payload], { type: 'image/jpeg' }));
      ctx.drawImage(bitmap, 0, 0);
      bitmap.close();
    } else {
      if (!image || image.width !== width || image.height !== height) image = new ImageData(width, height);
      convert(fourcc, payload, width, height, image.data, state.format);
      ctx.putImageData(image, 0, 0);
    }
    state.framesDrawn++;
    state.lastSequence = sequence;
    state.width = width;
    state.height = height;
  } catch (err) {
    showError(`cannot draw ${fourcc} frame: ${err.message}`);
  } finally {
    ack();
  }
  const t1 = performance.now();
  drawTimes.push(t1 - t0);
  if (drawTimes.length > 60) drawTimes.shift();
  drawnAt.push(t1);
  while (drawnAt.length && drawnAt[0] < t1 - 2000) drawnAt.shift();
}

function ack() {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send('{"type":"ack"}');
}

// BT.601 limited range to RGB in fixed point (the synthetic camera's and UVC's colorimetry). Per-value
// tables keep the inner loops to adds and shifts; writes into the Uint8ClampedArray clamp for free.
const Y_T = new Int32Array(256);
const RV_T = new Int32Array(256);
const GU_T = new Int32Array(256);
const GV_T = new Int32Array(256);
const BU_T = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  Y_T[i] = (i - 16) * 298 + 128;
  RV_T[i] = 409 * (i - 128);
  GU_T[i] = -100 * (i - 128);
  GV_T[i] = -208 * (i - 128);
  BU_T[i] = 516 * (i - 128);
}

function planeOf(format, i, fallbackOffset, fallbackStride) {
  const p = format && format.planes && format.planes[i];
  return p ? p : { offset: fallbackOffset, stride: fallbackStride };
}

/** Converts one frame into RGBA `out` (an ImageData's Uint8ClampedArray). */
function convert(fourcc, src, w, h, out, format) {
  switch (fourcc) {
    case 'YUY2':
    case 'UYVY': {
      const p = planeOf(format, 0, 0, w * 2);
      const yo = fourcc === 'YUY2' ? 0 : 1;
      const uo = fourcc === 'YUY2' ? 1 : 0;
      for (let y = 0; y < h; y++) {
        let s = p.offset + y * p.stride;
        let o = y * w * 4;
        for (let x = 0; x < w; x += 2, s += 4, o += 8) {
          const u = src[s + uo];
          const v = src[s + uo + 2];
          const r = RV_T[v];
          const g = GU_T[u] + GV_T[v];
          const b = BU_T[u];
          const y0 = Y_T[src[s + yo]];
          const y1 = Y_T[src[s + yo + 2]];
          out[o] = (y0 + r) >> 8;
          out[o + 1] = (y0 + g) >> 8;
          out[o + 2] = (y0 + b) >> 8;
          out[o + 3] = 255;
          out[o + 4] = (y1 + r) >> 8;
          out[o + 5] = (y1 + g) >> 8;
          out[o + 6] = (y1 + b) >> 8;
          out[o + 7] = 255;
        }
      }
      return;
    }
    case 'NV12':
    case 'I420': {
      const nv12 = fourcc === 'NV12';
      const py = planeOf(format, 0, 0, w);
      const pu = planeOf(format, 1, w * h, nv12 ? w : w / 2);
      const pv = planeOf(format, 2, w * h + (w / 2) * (h / 2), w / 2);
      for (let y = 0; y < h; y++) {
        const cy = y >> 1;
        const rowY = py.offset + y * py.stride;
        const rowU = pu.offset + cy * pu.stride;
        const rowV = nv12 ? rowU + 1 : pv.offset + cy * pv.stride;
        const cstep = nv12 ? 2 : 1;
        let o = y * w * 4;
        for (let x = 0, c = 0; x < w; x += 2, c += cstep, o += 8) {
          const u = src[rowU + c];
          const v = src[rowV + c];
          const r = RV_T[v];
          const g = GU_T[u] + GV_T[v];
          const b = BU_T[u];
          const y0 = Y_T[src[rowY + x]];
          const y1 = Y_T[src[rowY + x + 1]];
          out[o] = (y0 + r) >> 8;
          out[o + 1] = (y0 + g) >> 8;
          out[o + 2] = (y0 + b) >> 8;
          out[o + 3] = 255;
          out[o + 4] = (y1 + r) >> 8;
          out[o + 5] = (y1 + g) >> 8;
          out[o + 6] = (y1 + b) >> 8;
          out[o + 7] = 255;
        }
      }
      return;
    }
    case 'RGB24':
    case 'BGRA': {
      const bpp = fourcc === 'RGB24' ? 3 : 4;
      const p = planeOf(format, 0, 0, w * bpp);
      for (let y = 0; y < h; y++) {
        let s = p.offset + y * p.stride;
        let o = y * w * 4;
        for (let x = 0; x < w; x++, s += bpp, o += 4) {
          out[o] = src[s + 2];
          out[o + 1] = src[s + 1];
          out[o + 2] = src[s];
          out[o + 3] = 255;
        }
      }
      return;
    }
    case 'GRAY8': {
      const p = planeOf(format, 0, 0, w);
      for (let y = 0; y < h; y++) {
        let s = p.offset + y * p.stride;
        let o = y * w * 4;
        for (let x = 0; x < w; x++, s++, o += 4) {
          const g = Y_T[src[s]] >> 8;
          out[o] = out[o + 1] = out[o + 2] = g;
          out[o + 3] = 255;
        }
      }
      return;
    }
    default:
      throw new Error(`no converter for ${fourcc}`);
  }
}

// ---- state, formats ------------------------------------------------------------------------

function applyState(s) {
  state.running = s.running;
  state.format = s.format;
  const el = $('capture-state');
  el.dataset.running = String(s.running);
  el.textContent = s.running ? `running ${s.label}` : `stopped (${s.label})`;
  $('format-label').textContent = s.label;
  selectCurrentFormat(s.format);
  if (s.error) showError(s.error);
}

/** Points the picker at the range, size and rate now set (the first range that offers them). */
function selectCurrentFormat(f) {
  const formats = state.init ? state.init.formats : [];
  const match = formats.find(
    (r) => r.fourcc === f.fourcc && r.sizes.some((s) => s.width === f.width && s.height === f.height),
  );
  if (!match) return;
  const range = $('format-range');
  if (range.value !== String(match.range)) {
    range.value = String(match.range);
    range.onchange();
  }
  $('format-size').value = `${f.width}x${f.height}`;
  $('format-rate').value = f.interval;
}

function buildFormats(formats) {
  const range = $('format-range');
  range.replaceChildren(
    ...formats.map((f) => {
      const o = document.createElement('option');
      o.value = String(f.range);
      const d = f.default;
      o.textContent = `${f.fourcc} ${d.width}x${d.height}`;
      return o;
    }),
  );
  const fill = () => {
    const f = formats[Number(range.value)];
    if (!f) return;
    $('format-size').replaceChildren(
      ...f.sizes.map((s) => {
        const o = document.createElement('option');
        o.value = `${s.width}x${s.height}`;
        o.textContent = `${s.width}x${s.height}`;
        return o;
      }),
    );
    $('format-rate').replaceChildren(
      ...f.intervals.map((i) => {
        const o = document.createElement('option');
        o.value = i;
        o.textContent = `${(1e7 / Number(i)).toFixed(2).replace(/\.00$/, '')} fps`;
        if (i === f.default.interval) o.selected = true;
        return o;
      }),
    );
  };
  range.onchange = fill;
  fill();
  $('apply-format').onclick = () => {
    const [width, height] = $('format-size').value.split('x').map(Number);
    send({ type: 'format', range: Number(range.value), width, height, interval: $('format-rate').value });
  };
}

$('start').onclick = () => send({ type: 'start' });
$('stop').onclick = () => send({ type: 'stop' });

// ---- properties ----------------------------------------------------------------------------

function buildControls(properties) {
  const root = $('controls');
  root.replaceChildren(root.firstElementChild);
  const groups = new Map();
  for (const p of properties) {
    const group = `${p.filterName}: ${p.setName}${p.nodeName ? ` — node ${p.node}: ${p.nodeName}` : ''}`;
    if (!groups.has(group)) {
      const fs = document.createElement('fieldset');
      const legend = document.createElement('legend');
      legend.textContent = group;
      fs.append(legend);
      root.append(fs);
      groups.set(group, fs);
    }
    groups.get(group).append(buildControl(p));
  }
}

function buildControl(p) {
  const row = document.createElement('div');
  row.className = 'control';
  row.dataset.key = p.key;
  row.dataset.name = p.name;
  row.dataset.node = p.node === null ? 'f' : String(p.node);
  row.dataset.kind = p.control;
  const label = document.createElement('label');
  label.textContent = p.name;
  const out = document.createElement('output');
  let input;
  const entry = { p, row, input: null, out, auto: null, value: p.value, mode: p.mode };
  switch (p.control) {
    case 'slider':
      input = document.createElement('input');
      input.type = 'range';
      input.min = String(p.min);
      input.max = String(p.max);
      input.step = String(p.step ?? 1);
      input.title = `${p.min}…${p.max}, step ${p.step ?? 1}, default ${p.default}`;
      input.onchange = () => send({ type: 'set', key: p.key, value: Number(input.value) });
      input.oninput = () => (out.textContent = input.value);
      break;
    case 'toggle':
      input = document.createElement('input');
      input.type = 'checkbox';
      input.onchange = () =>
        send({ type: 'set', key: p.key, value: p.type === 'bool' ? input.checked : input.checked ? 1 : 0 });
      break;
    case 'menu':
      input = document.createElement('select');
      for (const o of p.options) {
        const opt = document.createElement('option');
        opt.value = String(o.value);
        opt.textContent = o.label;
        input.append(opt);
      }
      input.onchange = () => send({ type: 'set', key: p.key, value: Number(input.value) });
      break;
    case 'button':
      input = document.createElement('button');
      input.type = 'button';
      input.textContent = 'Do';
      input.onclick = () => send({ type: 'set', key: p.key, value: p.default ?? 1 });
      break;
    case 'number':
      input = document.createElement('input');
      input.type = 'number';
      if (p.min !== undefined) input.min = String(p.min);
      if (p.max !== undefined) input.max = String(p.max);
      if (p.step !== undefined) input.step = String(p.step);
      input.onchange = () => send({ type: 'set', key: p.key, value: input.value });
      break;
    default:
      input = document.createElement('span');
  }
  entry.input = input;
  const autoCell = document.createElement('label');
  if (p.modes && p.modes.includes('auto')) {
    const auto = document.createElement('input');
    auto.type = 'checkbox';
    auto.className = 'auto';
    auto.onchange = () => send({ type: 'set', key: p.key, mode: auto.checked ? 'auto' : 'manual' });
    autoCell.append(auto, ' auto');
    entry.auto = auto;
  }
  row.append(label, input, out, autoCell);
  state.properties.set(p.key, entry);
  reflectProperty(p.key, p.value, p.mode);
  return row;
}

function reflectProperty(key, value, mode) {
  const e = state.properties.get(key);
  if (!e) return;
  e.value = value;
  e.mode = mode;
  e.row.dataset.value = String(value);
  const { input, p } = e;
  if (p.control === 'slider' || p.control === 'number' || p.control === 'menu') input.value = String(value);
  else if (p.control === 'toggle') input.checked = value === true || value === 1;
  const text = value === null ? '' : String(value);
  const short = text.length > 16 ? `${text.slice(0, 16)}…` : text;
  if (p.control === 'readonly') {
    input.textContent = short;
    input.title = text;
  }
  e.out.textContent = short;
  if (e.auto) {
    e.auto.checked = mode === 'auto';
    if (input.disabled !== undefined) input.disabled = mode === 'auto';
  }
}

// ---- statistics ----------------------------------------------------------------------------

function showStats(s) {
  state.stats = s;
  state.statsUpdates++;
  const set = (k, text) => {
    const el = document.querySelector(`[data-stat="${k}"]`);
    if (el) el.textContent = text;
  };
  const now = performance.now();
  const recent = drawnAt.filter((t) => t >= now - 1000).length;
  state.pageFps = recent;
  set('fps', s.fps.toFixed(1));
  set('pageFps', String(recent));
  set('frames', String(s.frames));
  set('drawn', String(state.framesDrawn));
  set('drops', String(s.drops));
  set('skipped', String(s.skipped));
  const l = s.latencyMs;
  set('latency', `${l.p50} / ${l.p90} / ${l.p99} / ${l.max} ms`);
  set('pool', `${s.pool.outstanding} of ${s.pool.slots} slots in use`);
  const avg = drawTimes.length ? drawTimes.reduce((a, b) => a + b, 0) / drawTimes.length : 0;
  set('drawMs', `${avg.toFixed(1)} ms`);
}

// ---- tuner ---------------------------------------------------------------------------------

function showTuner(t) {
  state.tuner = t;
  $('tuner').hidden = false;
  $('channel').textContent = t.channel ?? `${(t.frequencyHz / 1e6).toFixed(2)} MHz`;
  const f = $('frequency');
  if (document.activeElement !== f) f.value = String(t.frequencyHz);
  f.min = String(t.minFrequencyHz);
  f.max = String(t.maxFrequencyHz);
  f.step = String(t.stepHz);
  const std = $('standard');
  if (std.options.length !== t.standards.length) {
    std.replaceChildren(
      ...t.standards.map((s) => {
        const o = document.createElement('option');
        o.value = o.textContent = s;
        return o;
      }),
    );
  }
  std.value = t.standard;
  const input = $('input');
  if (input.options.length !== t.inputs.length) {
    input.replaceChildren(
      ...t.inputs.map((i) => {
        const o = document.createElement('option');
        o.value = String(i.index);
        o.textContent = i.name;
        return o;
      }),
    );
  }
  input.value = String(t.input);
  $('signal').value = t.signalStrength;
  $('signal-value').textContent = String(t.signalStrength);
  const lock = $('lock');
  lock.dataset.locked = String(t.locked);
  lock.textContent = t.settling ? 'settling…' : t.locked ? 'locked' : 'no lock';
  $('scan').disabled = t.scanning;
  $('scan').textContent = t.scanning ? 'Scanning…' : 'Scan';
  $('scan-results').replaceChildren(
    ...t.scanned.map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.name ?? '?'}: ${(c.frequencyHz / 1e6).toFixed(2)} MHz, ${c.signalStrength}%`;
      return li;
    }),
  );
}

$('channel-up').onclick = () => send({ type: 'tune', action: 'channel-up' });
$('channel-down').onclick = () => send({ type: 'tune', action: 'channel-down' });
$('tune').onclick = () => send({ type: 'tune', action: 'frequency', value: Number($('frequency').value) });
$('standard').onchange = () => send({ type: 'tune', action: 'standard', value: $('standard').value });
$('input').onchange = () => send({ type: 'tune', action: 'input', value: Number($('input').value) });
$('scan').onclick = () => send({ type: 'tune', action: 'scan' });

// ---- filter graph --------------------------------------------------------------------------

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** Filters left to right; pins on the filter's edges (in left, out right); nodes inside in a row. */
function drawGraph(graph) {
  const root = $('graph');
  root.replaceChildren();
  const pinAt = new Map();
  const NODE_W = 150;
  const NODE_H = 34;
  let x = 20;
  let maxH = 0;
  for (const f of graph.factories) {
    const ins = f.pins.filter((p) => p.dataFlow === 'in');
    const outs = f.pins.filter((p) => p.dataFlow !== 'in');
    const width = Math.max(340, 80 + f.nodes.length * (NODE_W + 20));
    const height = 70 + Math.max(ins.length, outs.length, 1) * 40 + 20;
    maxH = Math.max(maxH, height);
    const g = svg('g', { 'data-factory': f.index });
    g.append(svg('rect', { class: 'filter', x, y: 10, width, height, rx: 6 }));
    g.append(svg('text', { x: x + 8, y: 28 }, f.name.length > 48 ? `${f.name.slice(0, 47)}…` : f.name));
    const nodeAt = new Map();
    f.nodes.forEach((n, i) => {
      const nx = x + 60 + i * (NODE_W + 20);
      const ny = 50;
      nodeAt.set(n.id, { x: nx, y: ny });
      g.append(svg('rect', { class: 'node', x: nx, y: ny, width: NODE_W, height: NODE_H, rx: 4 }));
      g.append(svg('text', { x: nx + 6, y: ny + 14 }, `${n.id}: ${n.name}`));
      g.append(svg('text', { x: nx + 6, y: ny + 28 }, n.type.name.replace(/^KSNODETYPE_/, '')));
    });
    const placePins = (pins, side) =>
      pins.forEach((p, i) => {
        const py = 60 + NODE_H + 20 + i * 40;
        const px = side === 'in' ? x - 8 : x + width - 8;
        g.append(svg('rect', { class: 'pin', x: px, y: py, width: 16, height: 16 }));
        g.append(
          svg(
            'text',
            {
              x: side === 'in' ? px + 20 : px - 6,
              y: py + 12,
              'text-anchor': side === 'in' ? 'start' : 'end',
            },
            `${p.id}: ${p.name}`,
          ),
        );
        pinAt.set(`${f.index}/${p.id}`, { x: side === 'in' ? px : px + 16, y: py + 8 });
      });
    placePins(ins, 'in');
    placePins(outs, 'out');
    const point = (end, from) => {
      if (end.node === null) {
        const p = pinAt.get(`${f.index}/${end.pin}`);
        return p ? { x: from ? p.x + 16 : p.x - 0, y: p.y } : null;
      }
      const n = nodeAt.get(end.node);
      return n ? { x: from ? n.x + NODE_W : n.x, y: n.y + NODE_H / 2 } : null;
    };
    for (const c of f.connections) {
      const a = point(c.from, true);
      const b = point(c.to, false);
      if (!a || !b) continue;
      const mx = (a.x + b.x) / 2;
      g.append(
        svg('path', {
          class: 'link',
          d: `M${a.x},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}`,
          'marker-end': 'url(#arrow)',
        }),
      );
    }
    root.append(g);
    x += width + 80;
  }
  for (const m of graph.mediumLinks ?? []) {
    const a = pinAt.get(`${m.from.factory}/${m.from.pin}`);
    const b = pinAt.get(`${m.to.factory}/${m.to.pin}`);
    if (!a || !b) continue;
    const mx = (a.x + b.x) / 2;
    root.append(
      svg('path', { class: 'medium', d: `M${a.x},${a.y} C${mx},${a.y} ${mx},${b.y} ${b.x},${b.y}` }),
    );
  }
  const defs = svg('defs', {});
  const marker = svg('marker', {
    id: 'arrow',
    viewBox: '0 0 10 10',
    refX: 10,
    refY: 5,
    markerWidth: 6,
    markerHeight: 6,
    orient: 'auto',
  });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#aaa' }));
  defs.append(marker);
  root.prepend(defs);
  root.setAttribute('width', String(x));
  root.setAttribute('height', String(maxH + 30));
}

connect();
