// An assistant (by assistant_id or graph_id): its graph, schemas, and a form to start a run.
import { useState } from 'preact/hooks';
import { get, post, stream } from '../api.js';
import { ErrorBox, Json, Loading } from '../components/common.jsx';
import { GraphView } from '../components/GraphView.jsx';
import { Values } from '../components/Chat.jsx';
import { useLoad } from '../hooks.js';
import { Link } from '../router.jsx';

function Schemas({ id }) {
  const { data, error } = useLoad(() => get(`/assistants/${encodeURIComponent(id)}/schemas`), [id]);
  if (error) return <ErrorBox error={error} />;
  if (!data) return <Loading what="schemas" />;
  const parts = [
    ['Input schema', data.input_schema],
    ['Output schema', data.output_schema],
    ['Config schema', data.config_schema],
    ['Context schema', data.context_schema],
  ];
  return parts.map(([title, schema], i) => (
    <details key={title} open={i === 0}>
      <summary>{title}</summary>
      {schema ? <Json value={schema} label={title} /> : <p class="muted">None.</p>}
    </details>
  ));
}

function RunForm({ assistant }) {
  const [input, setInput] = useState('{}');
  const [error, setError] = useState(null);
  const [events, setEvents] = useState([]);
  const [output, setOutput] = useState(undefined);
  const [threadId, setThreadId] = useState(null);
  const [running, setRunning] = useState(false);

  const run = async (e) => {
    e.preventDefault();
    let parsed;
    try {
      parsed = JSON.parse(input);
    } catch (err) {
      setError(new Error(`Input is not valid JSON: ${err.message}`));
      return;
    }
    setError(null);
    setEvents([]);
    setOutput(undefined);
    setRunning(true);
    try {
      const thread = await post('/threads', { metadata: { graph_id: assistant.graph_id } });
      setThreadId(thread.thread_id);
      const body = { assistant_id: assistant.assistant_id, input: parsed, stream_mode: ['values', 'updates'] };
      await stream('POST', `/threads/${thread.thread_id}/runs/stream`, body, (ev) => {
        setEvents((all) => [...all, ev]);
        if (ev.event === 'values') setOutput(ev.data);
        if (ev.event === 'error') setError(new Error(`The run failed: ${JSON.stringify(ev.data)}`));
      });
    } catch (err) {
      setError(err);
    } finally {
      setRunning(false);
    }
  };

  return (
    <section aria-labelledby="run-title">
      <h2 id="run-title">Start a run</h2>
      <form onSubmit={run} class="run-form">
        <label for="run-input">Input</label>
        <textarea id="run-input" rows={6} spellcheck={false} value={input} onInput={(e) => setInput(e.currentTarget.value)} />
        <button type="submit" disabled={running}>Run</button>
        {running && <span class="muted"> running…</span>}
      </form>
      <ErrorBox error={error} />
      {threadId && (
        <p>
          Thread: <Link to={`/threads/${threadId}`}>{threadId}</Link>
        </p>
      )}
      {output !== undefined && (
        <section aria-labelledby="output-title">
          <h3 id="output-title">{running ? 'Output so far' : 'Output'}</h3>
          <Values values={output} ui={{ graphId: assistant.graph_id, threadId }} />
        </section>
      )}
      {events.length > 0 && (
        <details open>
          <summary>Streamed events ({events.length})</summary>
          <ol class="events" aria-label="Streamed events">
            {events.map((ev, i) => (
              <li key={i}>
                <span class="event-name">{ev.event}</span> <code>{JSON.stringify(ev.data)}</code>
              </li>
            ))}
          </ol>
        </details>
      )}
    </section>
  );
}

export function Assistant({ id }) {
  const path = `/assistants/${encodeURIComponent(id)}`;
  const assistant = useLoad(() => get(path), [id]);
  const drawing = useLoad(() => get(`${path}/graph?xray=true`), [id]);
  const a = assistant.data;
  return (
    <>
      <p class="crumbs"><Link to="">Console</Link> / assistants</p>
      <h1>{a ? a.name : id}</h1>
      <ErrorBox error={assistant.error} />
      {a && (
        <dl class="facts">
          <dt>Assistant id</dt><dd><code>{a.assistant_id}</code></dd>
          <dt>Graph</dt><dd>{a.graph_id}</dd>
          {a.description && (<><dt>Description</dt><dd>{a.description}</dd></>)}
          <dt>Version</dt><dd>{a.version ?? '–'}</dd>
        </dl>
      )}
      <div class="grid">
        <section aria-labelledby="graph-title">
          <h2 id="graph-title">Graph</h2>
          <ErrorBox error={drawing.error} />
          {drawing.data ? <div class="graph-box"><GraphView drawing={drawing.data} /></div> : !drawing.error && <Loading what="the graph" />}
        </section>
        <section aria-labelledby="schemas-title">
          <h2 id="schemas-title">Schemas</h2>
          <Schemas id={id} />
        </section>
      </div>
      {a && <RunForm assistant={a} />}
    </>
  );
}
