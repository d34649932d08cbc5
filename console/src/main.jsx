// The console's shell: a header bar (navigation, API token) and the page of the URL.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { BASE, getToken, onAuth, setToken } from './api.js';
import { Link, useRoute } from './router.jsx';
import { Home } from './pages/Home.jsx';
import { Assistant } from './pages/Assistant.jsx';
import { Thread } from './pages/Thread.jsx';
import { Run } from './pages/Run.jsx';
import { Store } from './pages/Store.jsx';
import './style.css';

function TokenField() {
  const [value, setValue] = useState(getToken());
  const save = (e) => {
    e.preventDefault();
    setToken(value.trim());
  };
  return (
    <form class="token" onSubmit={save}>
      <label for="token">Token</label>
      <input id="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue(e.currentTarget.value)} placeholder="Bearer token, when auth is on" />
      <button type="submit">Save token</button>
    </form>
  );
}

// A clear message when the server refused a call for want of a (valid) token
function AuthNotice({ status }) {
  if (status === 401) {
    return (
      <p class="auth-notice" role="alert">
        This server requires authentication: enter your token in the <strong>Token</strong> field
        above and save it (it is sent as <code>Authorization: Bearer &lt;token&gt;</code>).
      </p>
    );
  }
  if (status === 403) {
    return (
      <p class="auth-notice" role="alert">
        The server refused a request with this token (403): it may lack the permission.
      </p>
    );
  }
  return null;
}

function Page({ parts }) {
  const [first, id] = parts;
  if (!first) return <Home />;
  if (first === 'assistants' && id) return <Assistant key={id} id={id} />;
  if (first === 'threads' && id) return <Thread key={id} id={id} />;
  if (first === 'runs' && id) return <Run key={id} id={id} />;
  if (first === 'store') return <Store />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No console page here. <Link to="">Back to the console</Link>
      </p>
    </section>
  );
}

function App() {
  const parts = useRoute();
  const [authStatus, setAuthStatus] = useState(null);
  const [generation, setGeneration] = useState(0); // a new token loads every page again
  useEffect(
    () =>
      onAuth((status) => {
        if (status === 0) {
          setAuthStatus(null);
          setGeneration((g) => g + 1);
        } else setAuthStatus(status);
      }),
    [],
  );
  useEffect(() => setAuthStatus(null), [parts.join('/')]);
  return (
    <>
      <header class="bar">
        <Link to="" class="brand">graphport console</Link>
        <nav>
          <Link to="">Home</Link>
          <Link to="/store">Store</Link>
          <a href={`${BASE}/docs`}>API docs</a>
        </nav>
        <TokenField />
      </header>
      <AuthNotice status={authStatus} />
      <main key={generation}>
        <Page parts={parts} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app'));
