// A thread: status, current values, interrupts (with a resume form), checkpoint history (view
// and fork), and runs. Runs started elsewhere stream in live through GET /threads/{id}/stream.
import { useEffect, useRef, useState } from 'preact/hooks';
import { get, post, stream } from '../api.js';
import { ErrorBox, Json, Loading, Status, duration, short, time } from '../components/common.jsx';
import { Values } from '../components/Chat.jsx';
import { useInterval, useLoad } from '../hooks.js';
import { Link } from '../router.jsx';

// The interrupts the thread waits on, from its tasks and the state's own list (deduplicated)
function interruptsOf(state) {
  const seen = new Map();
  for (const task of state?.tasks || []) {
    for (const it of task.interrupts || []) seen.set(it.id ?? `${task.id}:${seen.size}`, it);
  }
  for (const it of state?.interrupts || []) if (!seen.has(it.id)) seen.set(it.id ?? seen.size, it);
  return [...seen.values()];
}

// Join the thread's stream while the page is open; on each event call onEvent. Reconnects
// after the stream ends or fails (a thread stream ends when the server stops).
function useThreadStream(id, onEvent) {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  const [live, setLive] = useState(false);
  useEffect(() => {
    const abort = new AbortController();
    let timer;
    const connect = async () => {
      try {
        const path = `/threads/${id}/stream?stream_mode=run_modes&stream_mode=lifecycle`;
        // live once the server answered: it subscribed us before its first byte
        await stream('GET', path, undefined, (ev) => handler.current(ev), abort.signal, () => setLive(true));
      } catch {
        // fall through to the retry; polling keeps the page current meanwhile
      }
      setLive(false);
      if (!abort.signal.aborted) timer = setTimeout(connect, 2000);
    };
    connect();
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
  }, [id]);
  return live;
}

function ResumeForm({ interrupts, assistantId, threadId, onDone }) {
  const [value, setValue] = useState('""');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const resume = async (e) => {
    e.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(value);
    } catch (err) {
      setError(new Error(`Resume value is not valid JSON: ${err.message}`));
      return;
    }
    setError(null);
    setBusy(true);
    try {
      await post(`/threads/${threadId}/runs`, { assistant_id: assistantId, command: { resume: parsed } });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="interrupt" aria-labelledby="interrupt-title">
      <h2 id="interrupt-title">Waiting on an interrupt</h2>
      {interrupts.map((it, i) => (
        <div key={it.id || i} class="interrupt-value">
          <Json value={it.value} label="Interrupt value" />
        </div>
      ))}
      <form onSubmit={resume} class="run-form">
        <label for="resume-value">Resume value</label>
        <textarea id="resume-value" rows={3} spellcheck={false} value={value} onInput={(e) => setValue(e.currentTarget.value)} />
        <button type="submit" disabled={busy || !assistantId}>Resume</button>
      </form>
      <ErrorBox error={error} />
    </section>
  );
}

function History({ threadId, history, assistantId, onFork }) {
  const [selected, setSelected] = useState(null);
  const [error, setError] = useState(null);
  const fork = async (checkpoint) => {
    setError(null);
    try {
      await post(`/threads/${threadId}/runs`, { assistant_id: assistantId, checkpoint_id: checkpoint.checkpoint_id, input: null });
      onFork();
    } catch (err) {
      setError(err);
    }
  };
  const chosen = history.find((h) => h.checkpoint_id === selected);
  return (
    <section aria-labelledby="history-title">
      <h2 id="history-title">Checkpoint history</h2>
      {!history.length && <p class="muted">No checkpoints.</p>}
      <ol class="history">
        {history.map((h) => (
          <li key={h.checkpoint_id} class={h.checkpoint_id === selected ? 'selected' : ''}>
            <button type="button" class="link" data-checkpoint={h.checkpoint_id} onClick={() => setSelected(h.checkpoint_id)}>
              step {h.metadata?.step ?? '?'} · {h.metadata?.source || '–'} · <code>{short(h.checkpoint_id)}</code>
            </button>
            <span class="muted"> {h.next?.length ? `next: ${h.next.join(', ')}` : 'done'} · {time(h.created_at)}</span>
          </li>
        ))}
      </ol>
      {chosen && (
        <section class="checkpoint" aria-labelledby="checkpoint-title">
          <h3 id="checkpoint-title">Checkpoint <code>{chosen.checkpoint_id}</code></h3>
          <Values values={chosen.values} label="Checkpoint values" ui={{ graphId: assistantId, threadId }} />
          <button type="button" onClick={() => fork(chosen)} disabled={!assistantId}>Fork from this checkpoint</button>
          <ErrorBox error={error} />
        </section>
      )}
    </section>
  );
}

function Runs({ runs, attempts }) {
  if (!runs.length) return <p class="muted">No runs.</p>;
  return (
    <table aria-label="Runs">
      <thead>
        <tr><th>Run</th><th>Status</th><th>Created</th><th>Updated</th><th>Duration</th><th>Attempts</th><th></th></tr>
      </thead>
      <tbody>
        {runs.map((r) => (
          <tr key={r.run_id} data-run={r.run_id}>
            <td><code title={r.run_id}>{short(r.run_id)}</code></td>
            <td><Status value={r.status} /></td>
            <td>{time(r.created_at)}</td>
            <td>{time(r.updated_at)}</td>
            <td>{duration(r)}</td>
            <td>{r.attempts ?? r.attempt ?? attempts[r.run_id] ?? '–'}</td>
            <td><Link to={`/runs/${r.run_id}?thread=${r.thread_id}`}>Webhook &amp; feedback</Link></td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Thread({ id }) {
  const load = () =>
    Promise.all([
      get(`/threads/${id}`),
      get(`/threads/${id}/state`),
      get(`/threads/${id}/runs?limit=50`),
      post(`/threads/${id}/history`, { limit: 20 }),
    ]).then(([thread, state, runs, history]) => ({ thread, state, runs, history }));
  const { data, error, reload } = useLoad(load, [id]);
  const [events, setEvents] = useState([]);
  const [attempts, setAttempts] = useState({});
  const pending = useRef(null);
  const soon = () => {
    clearTimeout(pending.current);
    pending.current = setTimeout(reload, 150);
  };
  useEffect(() => () => clearTimeout(pending.current), []);
  const live = useThreadStream(id, (ev) => {
    setEvents((all) => [...all.slice(-49), ev]);
    if (ev.event === 'metadata' && ev.data?.run_id && ev.data.attempt) {
      setAttempts((a) => ({ ...a, [ev.data.run_id]: ev.data.attempt }));
    }
    soon();
  });
  useInterval(reload, 5000); // the fallback when the stream is down

  if (!data) {
    return (
      <>
        <p class="crumbs"><Link to="">Console</Link> / threads</p>
        <h1>Thread <code>{id}</code></h1>
        <ErrorBox error={error} />
        {!error && <Loading what="the thread" />}
      </>
    );
  }
  const { thread, state, runs, history } = data;
  const interrupts = interruptsOf(state);
  // a run's attempt is stamped on the checkpoints it wrote (metadata.run_attempt); the live
  // stream's metadata event says it for a run in flight
  const seen = {};
  for (const h of history) {
    const { run_id: runId, run_attempt: attempt } = h.metadata || {};
    if (runId && attempt) seen[runId] = Math.max(seen[runId] || 0, attempt);
  }
  const assistantId = thread.metadata?.graph_id || thread.metadata?.assistant_id || runs[0]?.assistant_id;
  return (
    <>
      <p class="crumbs"><Link to="">Console</Link> / threads</p>
      <h1>Thread <code>{id}</code></h1>
      <ErrorBox error={error} />
      <dl class="facts">
        <dt>Status</dt><dd data-testid="thread-status"><Status value={thread.status} /></dd>
        <dt>Graph</dt>
        <dd>{thread.metadata?.graph_id ? <Link to={`/assistants/${encodeURIComponent(thread.metadata.graph_id)}`}>{thread.metadata.graph_id}</Link> : '–'}</dd>
        <dt>Created</dt><dd>{time(thread.created_at)}</dd>
        <dt>Updated</dt><dd>{time(thread.updated_at)}</dd>
        <dt>Live</dt><dd>{live ? 'following the thread stream' : 'reconnecting (polling meanwhile)'}</dd>
      </dl>
      {(thread.status === 'interrupted' || interrupts.length > 0) && (
        <ResumeForm interrupts={interrupts} assistantId={assistantId} threadId={id} onDone={reload} />
      )}
      <div class="grid">
        <section aria-labelledby="values-title">
          <h2 id="values-title">Current values</h2>
          <Values values={state.values} ui={{ graphId: assistantId, threadId: id }} />
          {state.next?.length > 0 && <p class="muted">Next: {state.next.join(', ')}</p>}
        </section>
        <History threadId={id} history={history} assistantId={assistantId} onFork={reload} />
      </div>
      <section aria-labelledby="runs-title">
        <h2 id="runs-title">Runs</h2>
        <Runs runs={runs} attempts={{ ...seen, ...attempts }} />
      </section>
      {events.length > 0 && (
        <details>
          <summary>Live events ({events.length})</summary>
          <ol class="events" aria-label="Live events">
            {events.map((ev, i) => (
              <li key={i}><span class="event-name">{ev.event}</span> <code>{JSON.stringify(ev.data)}</code></li>
            ))}
          </ol>
        </details>
      )}
    </>
  );
}
