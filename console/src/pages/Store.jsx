// The store: its namespaces, and the items of the one picked.
import { useState } from 'preact/hooks';
import { post } from '../api.js';
import { ErrorBox, Loading, time } from '../components/common.jsx';
import { useLoad } from '../hooks.js';
import { Link } from '../router.jsx';

function Items({ namespace }) {
  const { data, error } = useLoad(
    () => post('/store/items/search', { namespace_prefix: namespace, limit: 100 }),
    [namespace.join('\u0000')],
  );
  const items = data?.items;
  return (
    <section aria-labelledby="items-title">
      <h2 id="items-title">Items in <code>{namespace.join(' / ')}</code></h2>
      <ErrorBox error={error} />
      {!items && !error && <Loading what="items" />}
      {items && !items.length && <p class="muted">No items.</p>}
      {items && items.length > 0 && (
        <table aria-label="Items">
          <thead><tr><th>Namespace</th><th>Key</th><th>Value</th><th>Updated</th></tr></thead>
          <tbody>
            {items.map((it) => (
              <tr key={`${it.namespace.join('/')}/${it.key}`}>
                <td><code>{it.namespace.join(' / ')}</code></td>
                <td><code>{it.key}</code></td>
                <td><pre class="json">{JSON.stringify(it.value, null, 2)}</pre></td>
                <td>{time(it.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function Store() {
  const { data, error } = useLoad(() => post('/store/namespaces', { limit: 100 }), []);
  const [picked, setPicked] = useState(null);
  const namespaces = data?.namespaces;
  return (
    <>
      <p class="crumbs"><Link to="">Console</Link> / store</p>
      <h1>Store</h1>
      <div class="grid">
        <section aria-labelledby="ns-title">
          <h2 id="ns-title">Namespaces</h2>
          <ErrorBox error={error} />
          {!namespaces && !error && <Loading what="namespaces" />}
          {namespaces && !namespaces.length && <p class="muted">The store is empty.</p>}
          <ul class="namespaces">
            {(namespaces || []).map((ns) => (
              <li key={ns.join('\u0000')}>
                <button type="button" class="link" onClick={() => setPicked(ns)}>{ns.join(' / ')}</button>
              </li>
            ))}
          </ul>
        </section>
        {picked && <Items namespace={picked} />}
      </div>
    </>
  );
}
