// Search by photo: every face boxed with its best person, each face's matches by person with thumbnails, or "unknown".
import { api, toBase64 } from '../api.js';
import { h, attempt, dropZone, fmt, photo, thumb } from '../ui.js';

export async function search(root, state) {
  const slot = h('div');
  const out = h('div', { id: 'search-results' });
  const topK = h('input', { type: 'number', id: 'top-k', min: 1, max: 100, value: 5 });
  root.append(h('h2', {}, 'Search ', h('q', { text: state.collection })),
    h('div.card.row', {}, h('label.field', { for: 'top-k' }, 'Matches per face', topK)),
    dropZone('Drop a photo to search, or choose a file', ([file]) => run(file), false), slot, out);

  async function run(file) {
    out.replaceChildren();
    const image = await toBase64(file);
    const reply = await attempt(slot, () => api.search(state.collection, image, Number(topK.value) || 5));
    if (!reply) { return; }
    const faces = reply.faces ?? [];
    const label = f => (f.unknown ? 'unknown' : (f.persons?.[0]?.personId ?? f.matches?.[0]?.personId ?? ''));
    const pic = photo(URL.createObjectURL(file), faces, (f, i) => `${i + 1}: ${label(f)}`, f => (f.unknown ? 'unknown' : ''));
    const items = faces.map((f, i) => {
      const groups = f.persons?.length ? f.persons : (f.matches ?? []).map(m => ({ personId: m.personId, distance: m.distance, similarity: m.similarity, bestFaceId: m.faceId, matchedFaces: 1 }));
      return h('article.face-item', { 'data-face': i, 'aria-label': `Face ${i + 1}` },
        h('div', {}, h('strong', { text: `Face ${i + 1}` }), h('br'),
          f.unknown ? h('span.tag.unknown', { 'data-result': 'unknown', text: 'unknown' }) : h('span.tag', { 'data-result': 'match', text: label(f) })),
        h('div.thumbs', {}, ...groups.map(g => h('div.match', { 'data-person': g.personId },
          thumb(state.collection, g.bestFaceId, g.personId),
          h('div', {}, h('a', { href: `#/persons/${encodeURIComponent(g.personId)}`, text: g.personId }), h('br'),
            h('span.muted', { text: `distance ${fmt.dist(g.distance)} · similarity ${fmt.dist(g.similarity)}` }), h('br'),
            h('span.muted', { text: `${g.matchedFaces} matching face${g.matchedFaces === 1 ? '' : 's'}` }))))));
    });
    out.append(h('div.card', {}, pic.el,
      h('p.muted', { text: faces.length ? `${faces.length} face${faces.length === 1 ? '' : 's'} · match threshold ${fmt.dist(reply.threshold)} (squared L2)` : 'No face found in this photo.' })),
    h('div.face-list', {}, ...items));
  }
}
