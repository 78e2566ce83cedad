// Loads management API answers into a component. A newer request aborts the one
// before it, so a slow answer to an old filter never overwrites a newer one.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';

// requests: {name: [path, query]} read together; `key` changes when they should be
// read again. Returns {data: {name: answer}, error, loading, reload}.
export function useApi(requests, key) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const [generation, setGeneration] = useState(0);
  const current = useRef(null);

  useEffect(() => {
    current.current?.abort();
    const controller = new AbortController();
    current.current = controller;
    setState((s) => ({ ...s, loading: true }));
    const names = Object.keys(requests);
    Promise.all(
      names.map((name) => {
        const [path, query] = requests[name];
        return api(path, { query, signal: controller.signal });
      }),
    ).then(
      (answers) => {
        if (controller.signal.aborted) return;
        setState({
          data: Object.fromEntries(names.map((n, i) => [n, answers[i]])),
          error: null,
          loading: false,
        });
      },
      (error) => {
        if (controller.signal.aborted) return;
        setState((s) => ({ ...s, error, loading: false }));
      },
    );
    return () => controller.abort();
    // `requests` is rebuilt on every render; `key` says when it really changed.
  }, [key, generation]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { ...state, reload };
}
