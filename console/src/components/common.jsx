// Small shared pieces: JSON blocks, status badges, errors, times.

export function Json({ value, label }) {
  return (
    <pre class="json" aria-label={label}>
      {JSON.stringify(value, null, 2)}
    </pre>
  );
}

export function Status({ value }) {
  return <span class={`status status-${value || 'unknown'}`}>{value || 'unknown'}</span>;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error.message || String(error)}
    </p>
  );
}

export function Loading({ what }) {
  return <p class="muted">Loading {what}…</p>;
}

export function time(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

// How long a run took (or has been going): updated_at - created_at
export function duration(run) {
  const start = Date.parse(run.created_at);
  const end = Date.parse(run.updated_at);
  if (Number.isNaN(start) || Number.isNaN(end)) return '–';
  const ms = Math.max(0, end - start);
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
}

// ids made from the time (uuid v6/v7) share their first digits: show the last ones
export const short = (id) => (id ? `…${String(id).slice(-8)}` : '–');
