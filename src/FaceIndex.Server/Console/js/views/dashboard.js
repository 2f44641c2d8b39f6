// Dashboard: counts and index state from Stats, request rate and latency sampled from the server's own metrics.
import { api, metrics } from '../api.js';
import { h, attempt, fmt } from '../ui.js';

const SAMPLE_MS = 2000;
const KEEP = 90;

function card(label, value, id) {
  return h('div.card', {}, h('div.stat', { id, text: value }), h('div.stat-label', { text: label }));
}

/** A line plot of the last values as inline SVG, with the current value in its accessible name. */
function plot(title, unit) {
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('class', 'plot');
  svg.setAttribute('viewBox', `0 0 ${KEEP} 100`);
  svg.setAttribute('preserveAspectRatio', 'none');
  svg.setAttribute('role', 'img');
  const caption = h('p.muted', { text: 'collecting…' });
  const el = h('div.card', {}, h('h3', { text: title }), svg, caption);
  const update = values => {
    const max = Math.max(...values, 1e-9);
    // The samples so far span the width; a full window scrolls.
    const step = KEEP / Math.max(values.length - 1, 1);
    const points = values.map((v, i) => `${(i * step).toFixed(2)},${(100 - (v / max) * 95).toFixed(2)}`).join(' ');
    svg.innerHTML = `<line class="axis" x1="0" y1="100" x2="${KEEP}" y2="100"/><polyline class="line" points="${points}"/>`;
    const last = values.at(-1) ?? 0;
    const text = `now ${unit(last)}, peak ${unit(max)} over the last ${Math.round((values.length * SAMPLE_MS) / 1000)} s`;
    caption.textContent = text;
    svg.setAttribute('aria-label', `${title}: ${text}`);
  };
  return { el, update };
}

function totals(samples) {
  let calls = 0; let sum = 0; let count = 0;
  for (const s of samples) {
    if (s.name === 'faceindex_grpc_calls_total') { calls += s.value; }
    if (s.name === 'faceindex_grpc_call_duration_seconds_sum') { sum += s.value; }
    if (s.name === 'faceindex_grpc_call_duration_seconds_count') { count += s.value; }
  }
  return { calls, sum, count, at: performance.now() };
}

export async function dashboard(root) {
  const slot = h('div');
  const cards = h('div.grid');
  const index = h('div.card');
  const rate = plot('Requests per second', v => `${v.toFixed(1)}/s`);
  const latency = plot('Mean latency', v => `${(v * 1000).toFixed(1)} ms`);
  root.append(h('h2', { text: 'Dashboard' }), slot, cards, h('div.grid', {}, rate.el, latency.el), index);

  const refresh = async () => {
    const s = await attempt(slot, () => api.stats());
    if (!s) { return; }
    cards.replaceChildren(
      card('faces', fmt.num(s.faces), 'stat-faces'),
      card('persons', fmt.num(s.persons), 'stat-persons'),
      card('collections', fmt.num(s.collections), 'stat-collections'),
      card('faces in the HNSW graphs', fmt.num(s.indexedFaces), 'stat-indexed'),
      card('pending (searched exactly)', fmt.num(s.pendingFaces), 'stat-pending'),
      card('write-ahead log', fmt.bytes(s.storeLogBytes), 'stat-log'));
    const p = s.index ?? {};
    index.replaceChildren(h('h3', { text: 'Index and model' }), h('dl', {},
      h('dt', { text: 'Model version' }), h('dd', { text: s.modelVersion ?? '' }),
      h('dt', { text: 'Search threshold / verify threshold (squared L2)' }), h('dd', { text: `${fmt.dist(s.defaultThreshold)} / ${fmt.dist(s.verifyThreshold)}` }),
      h('dt', { text: 'HNSW M, efConstruction, efSearch' }), h('dd', { text: `${p.m ?? 0}, ${p.efConstruction ?? 0}, ${p.efSearch ?? 0}` }),
      h('dt', { text: 'Collections scanned exactly below' }), h('dd', { text: `${fmt.num(p.exactBelow)} faces` }),
      h('dt', { text: 'Last checkpoint' }), h('dd', { text: fmt.date(s.lastCheckpoint) })));
  };

  const rates = []; const latencies = [];
  let previous = null;
  const sample = async () => {
    try {
      const now = totals(await metrics());
      if (previous) {
        const seconds = (now.at - previous.at) / 1000;
        const calls = now.count - previous.count;
        rates.push(Math.max(0, (now.calls - previous.calls) / seconds));
        latencies.push(calls > 0 ? (now.sum - previous.sum) / calls : 0);
        if (rates.length > KEEP) { rates.shift(); latencies.shift(); }
        rate.update(rates);
        latency.update(latencies);
      }
      previous = now;
    } catch { /* the stats box shows the error */ }
  };

  await refresh();
  await sample();
  let ticks = 0;
  const timer = setInterval(() => { sample(); if (++ticks % 5 === 0) { refresh(); } }, SAMPLE_MS);
  return () => clearInterval(timer);
}
