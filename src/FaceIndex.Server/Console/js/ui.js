// Small DOM helpers shared by the views: element building, error display, thumbnails, photos with face boxes.
import { api, ApiError } from './api.js';

/** h('div.card', { id: 'x', onclick }, child, …): an element with classes, attributes and children. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) { el.className = classes.join(' '); }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) { continue; }
    if (k.startsWith('on')) { el.addEventListener(k.slice(2), v); } else if (k === 'text') { el.textContent = v; } else { el.setAttribute(k, v === true ? '' : v); }
  }
  for (const c of children.flat()) {
    if (c !== null && c !== undefined && c !== false) { el.append(c instanceof Node ? c : document.createTextNode(String(c))); }
  }
  return el;
}

export function toast(message) {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.classList.add('show');
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => t.classList.remove('show'), 2500);
}

/** The box that shows a failed call: the server's message and its reason. */
export function errorBox(error) {
  if (error instanceof ApiError) {
    return h('div.error-box', { role: 'alert' }, error.message, ' ', h('span.reason', { text: `(${error.reason})` }));
  }
  return h('div.error-box', { role: 'alert' }, String(error?.message ?? error));
}

/** Runs an async action, showing its error in `slot` (emptied first). Returns the result or undefined. */
export async function attempt(slot, action) {
  slot.replaceChildren();
  try {
    return await action();
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return undefined;
  }
}

const thumbCache = new Map();

/** An <img> of a stored face's thumbnail (a grey square when the server kept none). */
export function thumb(collection, faceId, caption) {
  const img = h('img', { alt: caption ? `Face ${faceId} of ${caption}` : `Face ${faceId}`, width: 80, height: 80, loading: 'lazy' });
  const key = `${collection}/${faceId}`;
  let pending = thumbCache.get(key);
  if (!pending) {
    pending = api.thumbnail(collection, faceId).then(t => `data:${t.contentType || 'image/jpeg'};base64,${t.data}`, () => null);
    thumbCache.set(key, pending);
  }
  pending.then(src => { if (src) { img.src = src; } else { img.replaceWith(h('div.ph', { role: 'img', 'aria-label': `No thumbnail for face ${faceId}` })); } });
  return h('figure.thumb', {}, img, caption ? h('figcaption', { text: caption }) : null);
}

/** A photo with an SVG layer of face boxes; each box gets a label and a class. Returns { el, boxes }. */
export function photo(src, faces, label = () => '', cls = () => '') {
  const img = h('img', { src, alt: 'Uploaded photo' });
  const svgNs = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('aria-hidden', 'true');
  const boxes = [];
  const draw = () => {
    svg.setAttribute('viewBox', `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    svg.replaceChildren();
    faces.forEach((f, i) => {
      const b = f.box ?? { x: 0, y: 0, width: 0, height: 0 };
      const r = document.createElementNS(svgNs, 'rect');
      r.setAttribute('x', b.x ?? 0); r.setAttribute('y', b.y ?? 0);
      r.setAttribute('width', b.width ?? 0); r.setAttribute('height', b.height ?? 0);
      r.setAttribute('class', `box ${cls(f, i)}`);
      const t = document.createElementNS(svgNs, 'text');
      t.setAttribute('x', (b.x ?? 0) + 4);
      t.setAttribute('y', Math.max(16, (b.y ?? 0) - 6));
      t.setAttribute('class', 'box-label');
      t.setAttribute('font-size', Math.max(14, Math.round(img.naturalWidth / 30)));
      t.setAttribute('stroke-width', Math.max(3, Math.round(img.naturalWidth / 300)));
      t.textContent = label(f, i);
      svg.append(r, t);
      boxes[i] = r;
    });
  };
  img.addEventListener('load', draw);
  const el = h('div.photo', {}, img);
  el.append(svg);
  return { el, redraw: draw };
}

/** A drop zone with a file input; calls onFiles(File[]) with image files. */
export function dropZone(label, onFiles, multiple = true) {
  const input = h('input', { type: 'file', accept: 'image/*', multiple: multiple || undefined, 'aria-label': label });
  input.addEventListener('change', () => { if (input.files.length) { onFiles([...input.files]); input.value = ''; } });
  const zone = h('div.drop', {}, h('p', {}, label), input);
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', e => {
    e.preventDefault();
    zone.classList.remove('over');
    const files = [...e.dataTransfer.files];
    if (files.length) { onFiles(multiple ? files : files.slice(0, 1)); }
  });
  return zone;
}

export const fmt = {
  num: v => Number(v ?? 0).toLocaleString('en'),
  dist: v => Number(v ?? 0).toFixed(3),
  date: v => (v ? new Date(v).toLocaleString() : '—'),
  bytes: v => { let n = Number(v ?? 0); const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB']; let i = 0; while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; } return `${n.toFixed(i ? 1 : 0)} ${u[i]}`; },
};
