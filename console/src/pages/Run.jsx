// A run's webhook delivery (graphport's GET /runs/{id}/webhook) and its feedback.
import { get } from '../api.js';
import { ErrorBox, Json, Loading, Status, duration, time } from '../components/common.jsx';
import { useLoad } from '../hooks.js';
import { Link } from '../router.jsx';

// null when the run has no delivery (404), rather than an error
const optional = (promise) => promise.catch((err) => (err.status === 404 ? null : Promise.reject(err)));

export function Run({ id }) {
  const threadId = new URLSearchParams(location.search).get('thread');
  const run = useLoad(() => (threadId ? get(`/threads/${threadId}/runs/${id}`) : Promise.resolve(null)), [id, threadId]);
  const webhook = useLoad(() => optional(get(`/runs/${id}/webhook`)), [id]);
  const feedback = useLoad(() => get(`/runs/${id}/feedback`), [id]);
  const r = run.data;
  return (
    <>
      <p class="crumbs">
        <Link to="">Console</Link> / {threadId ? <Link to={`/threads/${threadId}`}>thread</Link> : 'thread'} / run
      </p>
      <h1>Run <code>{id}</code></h1>
      <ErrorBox error={run.error} />
      {r && (
        <dl class="facts">
          <dt>Status</dt><dd><Status value={r.status} /></dd>
          <dt>Created</dt><dd>{time(r.created_at)}</dd>
          <dt>Updated</dt><dd>{time(r.updated_at)}</dd>
          <dt>Duration</dt><dd>{duration(r)}</dd>
        </dl>
      )}
      <section aria-labelledby="webhook-title">
        <h2 id="webhook-title">Webhook deliveries</h2>
        <ErrorBox error={webhook.error} />
        {webhook.loading && <Loading what="the webhook delivery" />}
        {!webhook.loading && webhook.data === null && <p class="muted">No webhook delivery for this run.</p>}
        {webhook.data && (
          <>
            <p>
              <Status value={webhook.data.status} /> {webhook.data.url && <code>{webhook.data.url}</code>}
            </p>
            {Array.isArray(webhook.data.attempts) && (
              <table aria-label="Delivery attempts">
                <thead><tr><th>#</th><th>At</th><th>Status code</th><th>Error</th></tr></thead>
                <tbody>
                  {webhook.data.attempts.map((a, i) => (
                    <tr key={i}>
                      <td>{i + 1}</td>
                      <td>{time(a.at || a.created_at || a.attempted_at)}</td>
                      <td>{a.status_code ?? '–'}</td>
                      <td>{a.error || '–'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <details><summary>Raw delivery</summary><Json value={webhook.data} /></details>
          </>
        )}
      </section>
      <section aria-labelledby="feedback-title">
        <h2 id="feedback-title">Feedback</h2>
        <ErrorBox error={feedback.error} />
        {feedback.data && !feedback.data.length && <p class="muted">No feedback for this run.</p>}
        {feedback.data && feedback.data.length > 0 && (
          <table aria-label="Feedback">
            <thead><tr><th>Key</th><th>Score</th><th>Value</th><th>Comment</th><th>At</th></tr></thead>
            <tbody>
              {feedback.data.map((f) => (
                <tr key={f.feedback_id}>
                  <td>{f.key}</td>
                  <td>{f.score ?? '–'}</td>
                  <td>{f.value == null ? '–' : JSON.stringify(f.value)}</td>
                  <td>{f.comment || '–'}</td>
                  <td>{time(f.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
