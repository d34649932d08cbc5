// A `messages` value as a chat: role and text of each message. Messages may be LangChain
// message dicts ({type, content}), OpenAI-style ({role, content}) or plain values. A `ui` list
// (generative-UI messages) is rendered with the graph's components: each one under the message
// it is attached to (metadata.message_id), the others after the chat.
import { UiMessage, UiMessages, isUiMessage } from './GenUi.jsx';

function text(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((block) => {
        if (typeof block === 'string') return block;
        if (block && typeof block.text === 'string') return block.text;
        return JSON.stringify(block);
      })
      .join('\n');
  }
  return JSON.stringify(content);
}

function role(message) {
  if (message && typeof message === 'object') {
    const kind = message.type || message.role || 'message';
    return { human: 'user', ai: 'assistant' }[kind] || kind;
  }
  return 'message';
}

export function Chat({ messages, ui = [], ctx, values }) {
  if (!messages.length) return <p class="muted">No messages.</p>;
  return (
    <ol class="chat" aria-label="Messages">
      {messages.map((m, i) => {
        const who = role(m);
        const body = m && typeof m === 'object' && 'content' in m ? text(m.content) : text(m);
        const calls = m && Array.isArray(m.tool_calls) && m.tool_calls.length ? m.tool_calls : null;
        return (
          <li key={m?.id || i} class={`msg msg-${who}`}>
            <span class="role">{who}</span>
            <div class="content">{body}</div>
            {calls && <pre class="json">{JSON.stringify(calls, null, 2)}</pre>}
            {m?.id != null &&
              ui
                .filter((u) => u.metadata?.message_id === m.id)
                .map((u) => <UiMessage key={`${u.id}:${u.name}`} message={u} ctx={ctx} values={values} />)}
          </li>
        );
      })}
    </ol>
  );
}

// A state's values: `messages` as a chat, a `ui` list of UI messages with the components of
// graph `ui.graphId` (thread `ui.threadId`, for their useStreamContext), everything else as JSON
export function Values({ values, label, ui: ctx }) {
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    return <pre class="json" aria-label={label}>{JSON.stringify(values, null, 2)}</pre>;
  }
  const { messages, ...rest } = values;
  const uiList = ctx && Array.isArray(values.ui) && values.ui.some(isUiMessage) ? values.ui.filter(isUiMessage) : null;
  if (uiList) delete rest.ui;
  const chat = Array.isArray(messages) ? messages : null;
  const ids = new Set((chat || []).map((m) => m?.id).filter((id) => id != null));
  const loose = (uiList || []).filter((u) => !ids.has(u.metadata?.message_id));
  let shown = chat ? rest : values;
  if (!chat && uiList) {
    const { ui: _ui, ...others } = values;
    shown = others;
  }
  return (
    <div class="values" aria-label={label}>
      {chat && <Chat messages={chat} ui={uiList || []} ctx={ctx} values={values} />}
      {uiList && <UiMessages messages={loose} ctx={ctx} values={values} />}
      {(Object.keys(shown).length > 0 || (!chat && !uiList)) && <pre class="json">{JSON.stringify(shown, null, 2)}</pre>}
    </div>
  );
}
