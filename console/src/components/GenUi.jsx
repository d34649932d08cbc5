// Generative-UI messages (the `ui` list of a thread's values, as langgraph's push_ui_message
// writes them) rendered with the graph's bundled components, the way Agent Chat UI's
// LoadExternalComponent does: POST /ui/{graph_id} {name}, its tags in a shadow root. The loader
// (../genui/runtime.js) is its own chunk, fetched the first time a UI message is shown.
import { useEffect, useRef, useState } from 'preact/hooks';
import { post } from '../api.js';

export function isUiMessage(m) {
  return m && typeof m === 'object' && m.type === 'ui' && typeof m.name === 'string';
}

// What a component's useStreamContext() gets: the thread's values and a submit() that starts a
// run on the thread (useStream's values, messages, threadId, assistantId, submit)
function streamOf(ctx, values) {
  return {
    values,
    messages: Array.isArray(values?.messages) ? values.messages : [],
    threadId: ctx.threadId,
    assistantId: ctx.graphId,
    isLoading: false,
    submit: (input, options = {}) => {
      const { command, config, context, metadata, checkpoint } = options;
      const body = { assistant_id: ctx.graphId, input: input ?? null, command, config, context, metadata };
      if (checkpoint?.checkpoint_id) body.checkpoint_id = checkpoint.checkpoint_id;
      return post(`/threads/${ctx.threadId}/runs`, body);
    },
  };
}

export function UiMessage({ message, ctx, values }) {
  const host = useRef(null);
  const loaded = useRef(null);
  const [phase, setPhase] = useState({ name: 'loading' });
  const graphId = ctx?.graphId;
  useEffect(() => {
    if (!graphId) {
      setPhase({ name: 'none', why: 'the graph of this thread is not known' });
      return undefined;
    }
    let gone = false;
    let runtime;
    import('../genui/runtime.js')
      .then((rt) => {
        runtime = rt;
        return rt.load(host.current, graphId, message.name);
      })
      .then(
        (got) => {
          if (gone) return;
          loaded.current = { runtime, got };
          setPhase({ name: 'ready' });
        },
        (err) => {
          if (gone) return;
          const none = runtime && err instanceof runtime.NoUi;
          setPhase({ name: none ? 'none' : 'failed', why: err.message || String(err) });
        }
      );
    return () => {
      gone = true;
      if (loaded.current) loaded.current.runtime.hide(loaded.current.got);
      loaded.current = null;
    };
  }, [graphId, message.name]);
  const props = JSON.stringify(message.props ?? {});
  useEffect(() => {
    const it = loaded.current;
    if (phase.name !== 'ready' || !it) return;
    const failed = (err) => setPhase({ name: 'failed', why: `it raised ${err?.message || err}` });
    it.runtime.show(it.got, message.props ?? {}, { ...streamOf(ctx, values), meta: undefined }, failed);
  }, [phase.name, props, values]);
  const problem = phase.name === 'none' || phase.name === 'failed';
  return (
    <div class={`ui-message ui-${phase.name}`} data-ui-name={message.name} data-ui-id={message.id}>
      <span class="role">ui · {message.name}</span>
      <div ref={host} class="ui-host" />
      {phase.name === 'loading' && <p class="muted">Loading the component…</p>}
      {phase.name === 'none' && (
        <p class="ui-fallback" role="note">
          No component to show “{message.name}”: graph <code>{graphId || '?'}</code> has no <code>ui</code> block in
          langgraph.json ({phase.why}). Its props:
        </p>
      )}
      {phase.name === 'failed' && (
        <p class="ui-fallback" role="alert">
          The component “{message.name}” of graph <code>{graphId}</code> failed to load: {phase.why}. Its props:
        </p>
      )}
      {problem && <pre class="json">{JSON.stringify(message.props ?? {}, null, 2)}</pre>}
    </div>
  );
}

// The UI messages not attached to a message of the chat
export function UiMessages({ messages, ctx, values }) {
  if (!messages.length) return null;
  return (
    <div class="ui-messages" aria-label="UI messages">
      {messages.map((m) => (
        <UiMessage key={`${m.id}:${m.name}`} message={m} ctx={ctx} values={values} />
      ))}
    </div>
  );
}
