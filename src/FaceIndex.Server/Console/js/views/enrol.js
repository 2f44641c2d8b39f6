// Enrol: drop photos, see every detected face boxed, choose the faces to store under a person id.
import { api, toBase64 } from '../api.js';
import { h, attempt, dropZone, photo, toast } from '../ui.js';

export async function enrol(root, state) {
  const list = h('div.face-list');
  const person = h('input', { type: 'text', id: 'enrol-person', name: 'person', autocomplete: 'off', required: true, maxlength: 256 });
  root.append(h('h2', {}, 'Enrol into ', h('q', { text: state.collection })),
    h('div.card.row', {}, h('label.field', { for: 'enrol-person' }, 'Person id (for every photo below unless changed)', person)),
    dropZone('Drop photos here, or choose files', files => files.forEach(f => addPhoto(f))),
    list);

  async function addPhoto(file) {
    const slot = h('div');
    const item = h('article.face-item', { 'aria-label': `Photo ${file.name}` });
    list.prepend(item);
    const url = URL.createObjectURL(file);
    const image = await toBase64(file);
    const found = await attempt(slot, () => api.search(state.collection, image, 1));
    if (!found) { item.append(h('div', {}, h('strong', { text: file.name }), slot)); return; }
    const faces = found.faces ?? [];
    const chosen = faces.map((_, i) => i === 0);
    const pic = photo(url, faces, (_, i) => `${i + 1}`, (_, i) => (chosen[i] ? '' : 'off'));
    const who = h('input', { type: 'text', 'aria-label': `Person id for ${file.name}`, value: person.value, required: true });
    const boxes = faces.map((f, i) => {
      const box = h('input', { type: 'checkbox', id: `face-${file.name}-${i}`, checked: chosen[i] || undefined });
      box.addEventListener('change', () => { chosen[i] = box.checked; pic.redraw(); });
      const match = f.matches?.[0];
      return h('label', {}, box, ` face ${i + 1}`, match ? h('span.muted', { text: ` (looks like ${match.personId})` }) : '');
    });
    const go = h('button', { type: 'button', text: 'Enrol selected faces', disabled: faces.length === 0 });
    const result = h('p', { role: 'status' });
    go.addEventListener('click', async () => {
      const indices = chosen.flatMap((on, i) => (on ? [i] : []));
      if (!who.value.trim()) { result.replaceChildren(h('span.error', { text: 'Enter a person id.' })); who.focus(); return; }
      if (!indices.length) { result.replaceChildren(h('span.error', { text: 'Choose at least one face.' })); return; }
      const reply = await attempt(slot, () => api.enrol(state.collection, who.value.trim(), image, indices));
      if (reply) {
        const n = (reply.faces ?? []).length;
        const text = reply.duplicate ? 'Already enrolled: nothing new stored.' : `Enrolled ${n} face${n === 1 ? '' : 's'} as ${who.value.trim()}.`;
        result.replaceChildren(h('span.good', { text }));
        toast(text);
        go.disabled = true;
      }
    });
    item.append(pic.el, h('div', {},
      h('strong', { text: file.name }),
      h('p', { text: faces.length ? `${faces.length} face${faces.length === 1 ? '' : 's'} found.` : 'No face found in this photo.' }),
      h('fieldset', {}, h('legend', { text: 'Faces to enrol' }), ...boxes),
      h('label.field', {}, 'Person id', who), go, result, slot));
  }
}
