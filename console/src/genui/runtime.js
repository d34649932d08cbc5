// Generative UI in the console, loaded on demand (its own chunk, console-runtime.js) the first
// time a thread shows a UI message. The components' bundles (graphport/ui_build/build.mjs) ask
// the page for React through globalThis[Symbol.for("LGUI_REQUIRE")] and hand each component to
// window[Symbol.for("LGUI_EXT_STORE")].respond(shadowRootId, Component, element), as for
// @langchain/langgraph-sdk/react-ui. The console answers with preact/compat (React's API on the
// console's own Preact, ~10 kB) instead of shipping React and ReactDOM (~190 kB).
import * as React from 'preact/compat';
import * as ReactDOMClient from 'preact/compat/client';
import * as JsxRuntime from 'preact/compat/jsx-runtime';
import { Component, createContext, h, render } from 'preact';
import { useContext } from 'preact/hooks';
import { uiFragment } from '../api.js';

const REQUIRE = Symbol.for('LGUI_REQUIRE');
const REQUIRE_EXTRA = Symbol.for('LGUI_REQUIRE_EXTRA');
const STORE = Symbol.for('LGUI_EXT_STORE');
const LOAD_SECONDS = 15;

// What useStreamContext() answers inside a component: the thread's values, its id and graph,
// and submit(input, options) starting a run on the thread (a subset of useStream's)
const StreamContext = createContext(null);

function useStreamContext() {
  const ctx = useContext(StreamContext);
  if (!ctx) throw new Error('useStreamContext must be used within a LoadExternalComponent');
  return ctx;
}

const modules = {
  react: React,
  'react-dom': React,
  'react-dom/client': ReactDOMClient,
  'react/jsx-runtime': JsxRuntime,
  'react/jsx-dev-runtime': JsxRuntime,
  '@langchain/langgraph-sdk/react-ui': {
    useStreamContext,
    LoadExternalComponent: () => {
      throw new Error('Nesting LoadExternalComponent is not supported');
    },
  },
};

window[REQUIRE] = (name) => {
  if (name in modules) return modules[name];
  const extra = window[REQUIRE_EXTRA];
  if (extra && typeof extra === 'object' && name in extra) return extra[name];
  throw new Error(`Unknown module...: ${name} (the console provides react, react-dom and react/jsx-runtime)`);
};

const waiting = new Map(); // shadowRootId -> (Component, element) => void
window[STORE] = {
  respond(shadowRootId, comp, target) {
    const done = waiting.get(shadowRootId);
    waiting.delete(shadowRootId);
    done?.(comp, target);
  },
};

export class NoUi extends Error {}

let counter = 0;

// Load component `name` of graph `graphId` into `host` (an element of the document): its
// shadow root gets the server's <script>/<link> tags, whose script hands back the component
// and the element to render it in. Resolves {comp, target}; rejects NoUi on a 404 (no `ui`
// block for the graph), Error when the component cannot be loaded.
export async function load(host, graphId, name) {
  const { status, text } = await uiFragment(graphId, name);
  if (status === 404) throw new NoUi(text || `UI not found for graph '${graphId}'`);
  if (status !== 200) throw new Error(`POST /ui/${graphId} answered ${status}: ${text}`);
  const id = `console-ui-${++counter}`;
  host.id = id;
  const root = host.shadowRoot ?? host.attachShadow({ mode: 'open' });
  const fragment = document.createRange().createContextualFragment(text.replaceAll('{{shadowRootId}}', id));
  const scripts = [...fragment.querySelectorAll('script')].map((s) => s.src);
  return new Promise((resolve, reject) => {
    let timer;
    const finish = (error, value) => {
      clearTimeout(timer);
      window.removeEventListener('error', onError);
      waiting.delete(id);
      if (error) reject(error);
      else resolve(value);
    };
    // an exception while the bundle runs (a module the console does not provide, say)
    const onError = (e) => {
      if (scripts.includes(e.filename)) finish(new Error(e.message));
    };
    window.addEventListener('error', onError);
    waiting.set(id, (comp, target) => {
      if (typeof comp !== 'function' && (typeof comp !== 'object' || comp === null)) {
        finish(new Error(`the graph's components have none named "${name}"`));
      } else finish(null, { comp, target });
    });
    for (const script of fragment.querySelectorAll('script')) {
      script.addEventListener('error', () => finish(new Error(`${script.src} did not load`)));
    }
    timer = setTimeout(() => finish(new Error(`it did not load within ${LOAD_SECONDS} s`)), LOAD_SECONDS * 1000);
    root.appendChild(fragment);
  });
}

class Boundary extends Component {
  componentDidCatch(error) {
    this.setState({ failed: true });
    this.props.onError(error);
  }

  render() {
    return this.state.failed ? null : this.props.children;
  }
}

// Render (or render again, with new props) the loaded component into its element
export function show({ comp, target }, props, stream, onError) {
  render(h(Boundary, { onError }, h(StreamContext.Provider, { value: stream }, h(comp, props))), target);
}

export function hide({ target }) {
  render(null, target);
}
