// A `messages` value as a chat: role and text of each message. Messages may be LangChain
// message dicts ({type, content}), OpenAI-style ({role, content}) or plain values.

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

export function Chat({ messages }) {
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
          </li>
        );
      })}
    </ol>
  );
}

// A state's values: `messages` as a chat, everything else as JSON
export function Values({ values, label }) {
  if (!values || typeof values !== 'object' || Array.isArray(values)) {
    return <pre class="json" aria-label={label}>{JSON.stringify(values, null, 2)}</pre>;
  }
  const { messages, ...rest } = values;
  return (
    <div class="values" aria-label={label}>
      {Array.isArray(messages) && <Chat messages={messages} />}
      {(Object.keys(rest).length > 0 || !Array.isArray(messages)) && (
        <pre class="json">{JSON.stringify(Array.isArray(messages) ? rest : values, null, 2)}</pre>
      )}
    </div>
  );
}
