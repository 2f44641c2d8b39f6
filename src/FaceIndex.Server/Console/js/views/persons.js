// Persons: a paged list, a jump to a person by id, and the person page (faces with thumbnails, metadata,
// rename, deletes).
import { api } from '../api.js';
import { h, attempt, fmt, thumb, toast } from '../ui.js';

const PAGE = 50;

export async function persons(root, state, [personId]) {
  if (personId) { return personPage(root, state, personId); }
  const slot = h('div');
  const id = h('input', { type: 'search', id: 'person-id', name: 'person', autocomplete: 'off', required: true });
  const find = h('form.row.card', { role: 'search', 'aria-label': 'Find a person' },
    h('label.field', { for: 'person-id' }, 'Person id', id), h('button', { type: 'submit', text: 'Open' }));
  find.addEventListener('submit', e => { e.preventDefault(); location.hash = `#/persons/${encodeURIComponent(id.value.trim())}`; });
  const body = h('tbody');
  const pager = h('div.pager');
  root.append(h('h2', {}, `Persons in `, h('q', { text: state.collection })), find, slot,
    h('div.table-wrap.card', {}, h('table', {},
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Person' }), h('th.num', { scope: 'col', text: 'Faces' }), h('th.optional', { scope: 'col', text: 'Created' }))),
      body), pager));

  const tokens = [''];
  const load = async page => {
    const reply = await attempt(slot, () => api.persons(state.collection, PAGE, tokens[page]));
    if (!reply) { return; }
    if (reply.nextPageToken) { tokens[page + 1] = reply.nextPageToken; }
    const list = reply.persons ?? [];
    body.replaceChildren(...(list.length ? list.map(p => h('tr', {},
      h('td', {}, h('a', { href: `#/persons/${encodeURIComponent(p.personId)}`, text: p.personId })),
      h('td.num', { text: fmt.num(p.faceCount) }),
      h('td.optional', { text: fmt.date(p.createdAt) }))) : [h('tr', {}, h('td', { colspan: 3, class: 'muted', text: 'No persons yet: enrol some photos.' }))]));
    pager.replaceChildren(
      h('button.secondary', { type: 'button', disabled: page === 0, text: 'Previous page', onclick: () => load(page - 1) }),
      h('span.muted', { text: `page ${page + 1}` }),
      h('button.secondary', { type: 'button', disabled: !reply.nextPageToken, text: 'Next page', onclick: () => load(page + 1) }));
  };
  await load(0);
}

async function personPage(root, state, personId) {
  const c = state.collection;
  const slot = h('div');
  root.append(h('p', {}, h('a', { href: '#/persons', text: '← all persons' })), h('h2', { text: personId }), slot);
  const person = await attempt(slot, () => api.person(c, personId));
  if (!person) { return; }
  const faces = h('div.thumbs', { role: 'list', 'aria-label': `Faces of ${personId}` });
  for (const f of person.faces ?? []) {
    const item = h('div', { role: 'listitem' }, thumb(c, f.faceId, `#${f.faceId}`),
      h('button.danger', { type: 'button', 'aria-label': `Delete face ${f.faceId}`, text: 'Delete', onclick: async () => {
        if (!confirm(`Delete face ${f.faceId}?`)) { return; }
        if (await attempt(slot, () => api.deleteFace(c, f.faceId))) { item.remove(); toast(`Deleted face ${f.faceId}`); }
      } }));
    faces.append(item);
  }

  const meta = h('textarea', { id: 'metadata', rows: 4, cols: 40, 'aria-describedby': 'metadata-help' });
  meta.value = Object.entries(person.metadata ?? {}).map(([k, v]) => `${k}=${v}`).join('\n');
  const metaForm = h('form.card', { 'aria-label': 'Metadata' },
    h('h3', { text: 'Metadata' }),
    h('label.field', { for: 'metadata' }, 'One key=value per line', meta),
    h('p.muted', { id: 'metadata-help', text: 'Saving replaces every key of this person.' }),
    h('button', { type: 'submit', text: 'Save metadata' }));
  metaForm.addEventListener('submit', async e => {
    e.preventDefault();
    const metadata = {};
    for (const line of meta.value.split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) { metadata[line.slice(0, at).trim()] = line.slice(at + 1).trim(); }
    }
    if (await attempt(slot, () => api.updatePerson(c, personId, metadata, true))) { toast('Metadata saved'); }
  });

  const newId = h('input', { type: 'text', id: 'new-person-id', required: true, maxlength: 256, autocomplete: 'off' });
  newId.value = personId;
  const renameForm = h('form.card', { 'aria-label': 'Rename' },
    h('h3', { text: 'Rename' }),
    h('label.field', { for: 'new-person-id' }, 'New person id', newId),
    h('button', { type: 'submit', text: 'Rename' }));
  renameForm.addEventListener('submit', async e => {
    e.preventDefault();
    const to = newId.value.trim();
    if (to === personId) { return; }
    if (await attempt(slot, () => api.renamePerson(c, personId, to))) { toast(`Renamed to ${to}`); location.hash = `#/persons/${encodeURIComponent(to)}`; }
  });

  root.append(
    h('div.card', {}, h('h3', { text: `${(person.faces ?? []).length} faces` }), faces),
    metaForm,
    renameForm,
    h('button.danger', { type: 'button', text: 'Delete this person', onclick: async () => {
      if (!confirm(`Delete ${personId} and all their faces?`)) { return; }
      if (await attempt(slot, () => api.deletePerson(c, personId))) { toast(`Deleted ${personId}`); location.hash = '#/persons'; }
    } }));
}
