// Client-side routing on the History API under {base}/console: every page has a URL that
// the server answers with the same index.html (deep links, reloads, bookmarks).
import { useEffect, useState } from 'preact/hooks';
import { BASE } from './api.js';

export const ROOT = `${BASE}/console`;

export const href = (path) => ROOT + path;

export function navigate(path) {
  history.pushState(null, '', href(path));
  dispatchEvent(new PopStateEvent('popstate'));
}

// The page's path below /console, split and decoded: [] for the home page
export function useRoute() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    addEventListener('popstate', update);
    return () => removeEventListener('popstate', update);
  }, []);
  const rest = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  return rest.split('/').filter(Boolean).map(decodeURIComponent);
}

export function Link({ to, children, ...rest }) {
  const click = (e) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(to);
  };
  return (
    <a href={href(to)} onClick={click} {...rest}>
      {children}
    </a>
  );
}
