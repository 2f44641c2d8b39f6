// Verify: two photos, or a photo and an enrolled person: same or different, with the distance and threshold.
import { api, toBase64 } from '../api.js';
import { h, attempt, dropZone, fmt } from '../ui.js';

export async function verify(root, state) {
  const slot = h('div');
  const out = h('div', { role: 'status' });
  const files = [null, null];
  const previews = [h('div'), h('div')];
  const person = h('input', { type: 'text', id: 'verify-person', autocomplete: 'off' });
  const pick = i => ([file]) => {
    files[i] = file;
    previews[i].replaceChildren(h('div.photo', {}, h('img', { src: URL.createObjectURL(file), alt: `Photo ${i === 0 ? 'A' : 'B'}` })));
  };
  const go = h('button', { type: 'button', text: 'Compare' });
  root.append(h('h2', { text: 'Verify' }),
    h('div.grid', {},
      h('div.card', {}, h('h3', { text: 'Photo A' }), dropZone('Drop photo A', pick(0), false), previews[0]),
      h('div.card', {}, h('h3', { text: 'Photo B, or an enrolled person' }), dropZone('Drop photo B', pick(1), false), previews[1],
        h('label.field', { for: 'verify-person' }, `…or a person id in ${state.collection}`, person))),
    go, slot, out);
  go.addEventListener('click', async () => {
    out.replaceChildren();
    if (!files[0]) { slot.replaceChildren(h('div.error-box', { role: 'alert', text: 'Choose photo A.' })); return; }
    const body = { imageA: await toBase64(files[0]) };
    if (person.value.trim()) { body.personId = person.value.trim(); } else if (files[1]) { body.imageB = await toBase64(files[1]); } else {
      slot.replaceChildren(h('div.error-box', { role: 'alert', text: 'Choose photo B or enter a person id.' }));
      return;
    }
    const r = await attempt(slot, () => api.verify(state.collection, body));
    if (r) {
      out.replaceChildren(h('div.card', {},
        h('p.stat', { class: r.same ? 'stat good' : 'stat bad', 'data-result': r.same ? 'same' : 'different', text: r.same ? 'Same person' : 'Different people' }),
        h('p', { text: `distance ${fmt.dist(r.distance)} (similarity ${fmt.dist(r.similarity)}), threshold ${fmt.dist(r.threshold)}` })));
    }
  });
}
