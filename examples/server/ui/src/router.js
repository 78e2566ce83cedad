// Pages live in the URL's fragment (#/t/TENANT/fleet?liveness=online), so the server
// serves one page and a link or a reload shows the same view. Fragments hold ids and
// filters only; the token never goes in a URL.
import { useEffect, useState } from 'preact/hooks';

// "#/t/abc/agents/def?x=1" -> { parts: ['t', 'abc', 'agents', 'def'], query: {x: '1'} }
export function parseHash(hash) {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = q < 0 ? text : text.slice(0, q);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const query = Object.fromEntries(new URLSearchParams(q < 0 ? '' : text.slice(q + 1)));
  return { parts, query };
}

// href('t', tenant, 'fleet', {liveness: 'online'}) -> "#/t/<tenant>/fleet?liveness=online"
export function href(...segments) {
  const last = segments[segments.length - 1];
  const query = typeof last === 'object' && last !== null ? segments.pop() : {};
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return `#/${segments.map(encodeURIComponent).join('/')}${text ? `?${text}` : ''}`;
}

// Replaces the current entry (filters typed into a page should not flood history).
export function replaceHash(target) {
  if (location.hash !== target) history.replaceState(null, '', target);
}

export function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
