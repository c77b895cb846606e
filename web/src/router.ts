// Hash routing: `#/runs/abc?x=1` → { path: ['runs', 'abc'], query: {x: '1'} }. No router
// dependency; links are plain `<a href="#/…">` and navigate() sets the hash.
import { useEffect, useState } from 'react';

export interface Route {
  /** Decoded path segments, e.g. ['catalog', 'curated', 'fct_sales']. */
  path: string[];
  query: URLSearchParams;
  /** The hash without '#', e.g. '/runs/abc?x=1'. */
  raw: string;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/';
  const q = raw.indexOf('?');
  const pathPart = q === -1 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
  const path = pathPart
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
  return { path, query, raw };
}

/** Builds a hash link from segments (each encoded) and optional query values (empty ones left out). */
export function href(segments: string[], query?: Record<string, string | undefined>): string {
  let h = '#/' + segments.map((s) => encodeURIComponent(s)).join('/');
  if (query) {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== '') sp.set(k, v);
    const s = sp.toString();
    if (s) h += '?' + s;
  }
  return h;
}

export function navigate(hash: string, replace = false): void {
  const target = hash.startsWith('#') ? hash : '#' + hash;
  if (replace) {
    history.replaceState(null, '', target);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    window.location.hash = target;
  }
}

/** The current route, updated on every hash change. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
