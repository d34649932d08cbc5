// The home page: assistants, recent threads, live server health.
import { get, post } from '../api.js';
import { ErrorBox, Loading, Status, short, time } from '../components/common.jsx';
import { useInterval, useLoad } from '../hooks.js';
import { Link } from '../router.jsx';

function Assistants() {
  const { data, error } = useLoad(() => post('/assistants/search', { limit: 100, sort_by: 'name', sort_order: 'asc' }), []);
  return (
    <section aria-labelledby="assistants-title">
      <h2 id="assistants-title">Assistants</h2>
      <ErrorBox error={error} />
      {data === undefined && !error && <Loading what="assistants" />}
      {data && !data.length && <p class="muted">No assistants.</p>}
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr><th>Name</th><th>Graph</th><th>Assistant id</th></tr>
          </thead>
          <tbody>
            {data.map((a) => (
              <tr key={a.assistant_id}>
                <td><Link to={`/assistants/${encodeURIComponent(a.assistant_id)}`}>{a.name}</Link></td>
                <td><Link to={`/assistants/${encodeURIComponent(a.graph_id)}`}>{a.graph_id}</Link></td>
                <td><code>{a.assistant_id}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Threads() {
  const { data, error, reload } = useLoad(() => post('/threads/search', { limit: 20, sort_by: 'updated_at', sort_order: 'desc' }), []);
  useInterval(reload, 5000);
  return (
    <section aria-labelledby="threads-title">
      <h2 id="threads-title">Recent threads</h2>
      <ErrorBox error={error} />
      {data === undefined && !error && <Loading what="threads" />}
      {data && !data.length && <p class="muted">No threads yet: start a run from an assistant's page.</p>}
      {data && data.length > 0 && (
        <table>
          <thead>
            <tr><th>Thread</th><th>Status</th><th>Graph</th><th>Updated</th></tr>
          </thead>
          <tbody>
            {data.map((t) => (
              <tr key={t.thread_id}>
                <td><Link to={`/threads/${t.thread_id}`} title={t.thread_id}><code>{t.thread_id}</code></Link></td>
                <td><Status value={t.status} /></td>
                <td>{t.metadata?.graph_id || '–'}</td>
                <td>{time(t.updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Health() {
  const metrics = useLoad(() => get('/metrics?format=json'), []);
  const info = useLoad(() => get('/info'), []);
  useInterval(metrics.reload, 3000);
  const queue = metrics.data?.queue || {};
  const workers = metrics.data?.workers || {};
  const value = (v) => (v === undefined || v === null ? '–' : String(v));
  return (
    <section aria-labelledby="health-title">
      <h2 id="health-title">Server health</h2>
      <ErrorBox error={metrics.error} />
      <dl class="stats" aria-label="Health">
        <div><dt>Server processes</dt><dd data-stat="processes">{value(metrics.data?.processes)}</dd></div>
        <div><dt>Runs pending</dt><dd data-stat="pending">{value(queue.n_pending)}</dd></div>
        <div><dt>Runs running</dt><dd data-stat="running">{value(queue.n_running)}</dd></div>
        <div><dt>Workers active</dt><dd data-stat="active">{value(workers.active)}</dd></div>
        <div><dt>Workers available</dt><dd data-stat="available">{value(workers.available)}</dd></div>
        <div><dt>Workers max</dt><dd data-stat="max">{value(workers.max)}</dd></div>
        <div><dt>Longest wait</dt><dd>{queue.pending_runs_wait_time_max_secs == null ? '–' : `${queue.pending_runs_wait_time_max_secs} s`}</dd></div>
      </dl>
      {info.data && (
        <p class="muted">
          graphport {info.data.graphport_version || '?'} · API {info.data.version} · langgraph {info.data.langgraph_py_version || '?'}
        </p>
      )}
    </section>
  );
}

export function Home() {
  return (
    <>
      <h1>Console</h1>
      <div class="grid">
        <div>
          <Assistants />
        </div>
        <div>
          <Health />
          <Threads />
          <section>
            <h2>More</h2>
            <ul>
              <li><Link to="/store">Store: namespaces and items</Link></li>
            </ul>
          </section>
        </div>
      </div>
    </>
  );
}
