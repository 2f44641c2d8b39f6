// Collections: list with counts, create, delete.
import { api } from '../api.js';
import { h, attempt, fmt, toast } from '../ui.js';

export async function collections(root, state) {
  const slot = h('div');
  const name = h('input', { type: 'text', id: 'new-collection', name: 'name', required: true, maxlength: 128, autocomplete: 'off' });
  const form = h('form.row.card', { 'aria-label': 'Create a collection' },
    h('label.field', { for: 'new-collection' }, 'New collection', name),
    h('button', { type: 'submit', text: 'Create' }));
  const body = h('tbody');
  const table = h('div.table-wrap.card', {}, h('table', {},
    h('caption.muted', { text: 'Collections of this server' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Name' }), h('th.num', { scope: 'col', text: 'Persons' }),
      h('th.num', { scope: 'col', text: 'Faces' }), h('th.optional', { scope: 'col', text: 'Model' }),
      h('th.optional', { scope: 'col', text: 'Created' }), h('th', { scope: 'col', text: 'Actions' }))),
    body));
  root.append(h('h2', { text: 'Collections' }), form, slot, table);

  const load = async () => {
    const list = await attempt(slot, () => state.refreshCollections());
    if (!list) { return; }
    body.replaceChildren(...list.map(c => h('tr', { 'data-collection': c.name },
      h('td', {}, h('a', { href: '#/persons', onclick: () => { state.collection = c.name; } }, c.name)),
      h('td.num', { text: fmt.num(c.personCount) }),
      h('td.num', { text: fmt.num(c.faceCount) }),
      h('td.optional', { text: c.modelVersion ?? '' }),
      h('td.optional', { text: fmt.date(c.createdAt) }),
      h('td', {}, c.name === 'default' ? h('span.muted', { text: 'always exists' }) : h('button.danger', {
        type: 'button', 'aria-label': `Delete collection ${c.name}`, text: 'Delete',
        onclick: async () => {
          if (!confirm(`Delete collection "${c.name}" and its ${fmt.num(c.faceCount)} faces? This cannot be undone.`)) { return; }
          if (await attempt(slot, () => api.deleteCollection(c.name))) { toast(`Deleted ${c.name}`); load(); }
        },
      })))));
  };

  form.addEventListener('submit', async e => {
    e.preventDefault();
    const n = name.value.trim();
    if (await attempt(slot, () => api.createCollection(n))) {
      name.value = '';
      toast(`Created ${n}`);
      await load();
      state.collection = n;
    }
  });
  await load();
}
