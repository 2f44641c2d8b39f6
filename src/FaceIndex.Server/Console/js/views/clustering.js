// Clustering: start a job, follow its progress, cancel it, browse the clusters with thumbnails and merge
// suggestions, and name a cluster as a person.
import { api } from '../api.js';
import { h, attempt, fmt, thumb, toast } from '../ui.js';

const OP_STORE = 'faceindex.clusteringOperation';
const DONE = ['OPERATION_STATE_SUCCEEDED', 'OPERATION_STATE_FAILED', 'OPERATION_STATE_CANCELLED'];

export async function clustering(root, state, [clusterId]) {
  const c = state.collection;
  if (clusterId) { return clusterPage(root, c, clusterId); }
  const slot = h('div');
  const threshold = h('input', { type: 'number', id: 'cluster-threshold', step: '0.05', min: 0, max: 4, placeholder: 'server default' });
  const minSize = h('input', { type: 'number', id: 'cluster-min', min: 1, value: 2 });
  const start = h('button', { type: 'button', text: 'Start clustering' });
  const cancel = h('button.danger', { type: 'button', text: 'Cancel', hidden: true });
  const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Clustering progress' });
  const phase = h('p.muted', { role: 'status', id: 'cluster-status' });
  const list = h('div', { id: 'clusters' });
  root.append(h('h2', {}, 'Clustering ', h('q', { text: c })),
    h('div.card', {}, h('div.row', {}, h('label.field', { for: 'cluster-threshold' }, 'Threshold (squared L2)', threshold), start, cancel), bar, phase),
    slot, h('div.card.row', {}, h('label.field', { for: 'cluster-min' }, 'Smallest cluster shown', minSize)), list);

  let timer = null;
  let opId = sessionStorage.getItem(`${OP_STORE}.${c}`);
  const follow = async () => {
    const op = await attempt(slot, () => api.operation(opId));
    if (!op) { clearInterval(timer); timer = null; return; }
    bar.value = op.progress ?? 0;
    const stateName = (op.state ?? '').replace('OPERATION_STATE_', '').toLowerCase();
    phase.textContent = `${stateName}${op.phase ? ` · ${op.phase}` : ''} · ${Math.round((op.progress ?? 0) * 100)} %${op.error ? ` · ${op.error}` : ''}`;
    const done = DONE.includes(op.state);
    cancel.hidden = done; start.disabled = !done;
    if (done) {
      clearInterval(timer); timer = null;
      if (op.state === 'OPERATION_STATE_SUCCEEDED') { phase.textContent = `succeeded · ${fmt.num(op.clusterCount)} clusters`; loadClusters(); }
    }
  };
  start.addEventListener('click', async () => {
    const body = {};
    if (threshold.value) { body.threshold = Number(threshold.value); }
    const op = await attempt(slot, () => api.startClustering(c, body));
    if (!op) { return; }
    opId = op.id;
    sessionStorage.setItem(`${OP_STORE}.${c}`, opId);
    start.disabled = true; cancel.hidden = false;
    clearInterval(timer);
    timer = setInterval(follow, 500);
    follow();
  });
  cancel.addEventListener('click', async () => { if (await attempt(slot, () => api.cancelOperation(opId))) { toast('Cancelling…'); } });
  minSize.addEventListener('change', () => loadClusters());

  async function loadClusters(token = '') {
    const reply = await attempt(slot, () => api.clusters(c, Number(minSize.value) || 1, 24, token));
    if (!reply) { list.replaceChildren(); return; }
    const clusters = reply.clusters ?? [];
    const cards = clusters.map(k => h('article.card', { 'data-cluster': k.clusterId, 'aria-label': `Cluster ${k.clusterId}` },
      h('div.match', {}, thumb(c, k.representativeFaceId, `${k.size} faces`),
        h('div', {}, h('a', { href: `#/clustering/${k.clusterId}`, text: `Cluster ${k.clusterId}` }), h('br'),
          k.suggestedPersonId ? h('span', {}, 'looks like ', h('a', { href: `#/persons/${encodeURIComponent(k.suggestedPersonId)}`, text: k.suggestedPersonId }),
            h('span.muted', { text: ` (distance ${fmt.dist(k.suggestedPersonDistance)})` })) : h('span.muted', { text: 'no enrolled person close' })))));
    list.replaceChildren(h('h3', { text: clusters.length ? `Clusters (largest first)` : 'No clusters yet: start a clustering.' }),
      h('div.grid', {}, ...cards),
      reply.nextPageToken ? h('button.secondary', { type: 'button', text: 'More clusters', onclick: () => loadClusters(reply.nextPageToken) }) : '');
  }

  if (opId) { timer = setInterval(follow, 500); await follow(); } else { await loadClusters(); }
  return () => clearInterval(timer);
}

async function clusterPage(root, c, clusterId) {
  const slot = h('div');
  root.append(h('p', {}, h('a', { href: '#/clustering', text: '← all clusters' })), h('h2', { text: `Cluster ${clusterId}` }), slot);
  const k = await attempt(slot, () => api.cluster(c, clusterId));
  if (!k) { return; }
  const s = k.summary ?? {};
  const faceIds = k.faceIds ?? [];
  root.append(h('div.card', {},
    h('p', {}, `${fmt.num(s.size)} faces. `, s.suggestedPersonId ? h('span', {}, 'Merge suggestion: ', h('a', { href: `#/persons/${encodeURIComponent(s.suggestedPersonId)}`, text: s.suggestedPersonId }), ` (distance ${fmt.dist(s.suggestedPersonDistance)})`) : 'No enrolled person is close.'),
    h('div.thumbs', {}, ...faceIds.map(id => thumb(c, id, `#${id}`)))));

  // Name the cluster: its faces go to that person (created when new), as the merge suggestion proposes.
  const name = h('input', { type: 'text', id: 'cluster-person', required: true, maxlength: 256, autocomplete: 'off', 'aria-describedby': 'cluster-person-help' });
  name.value = s.suggestedPersonId ?? '';
  const form = h('form.card', { 'aria-label': 'Name this cluster' },
    h('h3', { text: 'Name this cluster as a person' }),
    h('label.field', { for: 'cluster-person' }, 'Person id', name),
    h('p.muted', { id: 'cluster-person-help', text: `The ${faceIds.length} faces move to this person (created when new); the persons they leave keep their other faces.` }),
    h('button', { type: 'submit', text: `Assign ${faceIds.length} faces` }));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const personId = name.value.trim();
    const person = await attempt(slot, () => api.assignFaces(c, personId, faceIds));
    if (person) {
      toast(`${faceIds.length} faces assigned to ${personId}`);
      location.hash = `#/persons/${encodeURIComponent(personId)}`;
    }
  });
  root.append(form);
}
