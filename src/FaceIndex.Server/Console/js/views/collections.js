// Collections: list with counts, create (with a model), delete, and migrate one to another model.
import { api } from '../api.js';
import { h, attempt, fmt, toast } from '../ui.js';

const DONE = ['OPERATION_STATE_SUCCEEDED', 'OPERATION_STATE_FAILED', 'OPERATION_STATE_CANCELLED'];

export async function collections(root, state) {
  const slot = h('div');
  const stats = await attempt(slot, () => api.stats());
  const models = stats?.models ?? [];
  const modelOptions = () => models.map(m => h('option', { value: m, text: m === stats.modelVersion ? `${m} (default)` : m }));
  const name = h('input', { type: 'text', id: 'new-collection', name: 'name', required: true, maxlength: 128, autocomplete: 'off' });
  const model = h('select', { id: 'new-collection-model', name: 'model' }, ...modelOptions());
  if (stats) { model.value = stats.modelVersion; }
  const form = h('form.row.card', { 'aria-label': 'Create a collection' },
    h('label.field', { for: 'new-collection' }, 'New collection', name),
    h('label.field', { for: 'new-collection-model' }, 'Model', model),
    h('button', { type: 'submit', text: 'Create' }));

  // Migration: a new collection of another model from an existing one, without its images (its codes mapped).
  const source = h('select', { id: 'migrate-source', name: 'source' });
  const target = h('select', { id: 'migrate-model', name: 'model' }, ...modelOptions());
  const targetName = h('input', { type: 'text', id: 'migrate-target', name: 'target', maxlength: 128, autocomplete: 'off', placeholder: 'collection-model' });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Migration progress', hidden: true });
  const status = h('p.muted', { role: 'status', id: 'migrate-status' });
  const migrate = h('form.card', { 'aria-label': 'Migrate a collection to another model' },
    h('h3', { text: 'Migrate to another model' }),
    h('p.muted', { text: 'Copies the collection into a new one whose faces are searched with the chosen model: each face\'s code is mapped into that model\'s space, no image is needed. Accuracy is lower than after re-enrolling from images (see the README).' }),
    h('div.row', {},
      h('label.field', { for: 'migrate-source' }, 'Collection', source),
      h('label.field', { for: 'migrate-model' }, 'To model', target),
      h('label.field', { for: 'migrate-target' }, 'New collection (optional)', targetName),
      h('button', { type: 'submit', text: 'Migrate' })),
    bar, status);

  const body = h('tbody');
  const table = h('div.table-wrap.card', {}, h('table', {},
    h('caption.muted', { text: 'Collections of this server' }),
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Name' }), h('th.num', { scope: 'col', text: 'Persons' }),
      h('th.num', { scope: 'col', text: 'Faces' }), h('th.optional', { scope: 'col', text: 'Model' }),
      h('th.optional', { scope: 'col', text: 'Created' }), h('th', { scope: 'col', text: 'Actions' }))),
    body));
  root.append(h('h2', { text: 'Collections' }), form, slot, table, migrate);

  const load = async () => {
    const list = await attempt(slot, () => state.refreshCollections());
    if (!list) { return; }
    const chosen = source.value;
    source.replaceChildren(...list.map(c => h('option', { value: c.name, text: c.name })));
    if (list.some(c => c.name === chosen)) { source.value = chosen; }
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
    if (await attempt(slot, () => api.createCollection(n, model.value))) {
      name.value = '';
      toast(`Created ${n}`);
      await load();
      state.collection = n;
    }
  });

  let timer = null;
  migrate.addEventListener('submit', async e => {
    e.preventDefault();
    const request = { model: target.value };
    if (targetName.value.trim()) { request.targetCollection = targetName.value.trim(); }
    const op = await attempt(slot, () => api.migrate(source.value, request));
    if (!op) { return; }
    bar.hidden = false;
    const follow = async () => {
      const now = await attempt(slot, () => api.operation(op.id));
      if (!now) { clearInterval(timer); timer = null; return; }
      bar.value = now.progress ?? 0;
      status.textContent = `${now.targetCollection}: ${fmt.num(now.migratedFaces ?? 0)} faces copied${now.error ? ` · ${now.error}` : ''}`;
      if (DONE.includes(now.state)) {
        clearInterval(timer); timer = null;
        if (now.state === 'OPERATION_STATE_SUCCEEDED') {
          status.textContent = `Migrated: ${now.targetCollection} (${now.targetModel}) holds ${fmt.num(now.migratedFaces ?? 0)} faces`;
          toast(`Migrated to ${now.targetCollection}`);
        }
        await load();
      }
    };
    clearInterval(timer);
    timer = setInterval(follow, 500);
    follow();
  });
  await load();
  return () => clearInterval(timer);
}
