// What the page reads from /console/api/ (polled while a view is live) and the Step Functions
// calls it sends to the same endpoint.

import { useCallback, useEffect, useState } from 'preact/hooks';
import { BASE } from './routing.js';

export const LIVE_MS = 1000;

async function getJson(path) {
  const response = await fetch(`${BASE}/api${path}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

/** A Step Functions call, as the AWS SDK makes it. */
export async function stepFunctions(operation, input) {
  const response = await fetch('/', {
    method: 'POST',
    headers: {
      'X-Amz-Target': `AWSStepFunctions.${operation}`,
      'Content-Type': 'application/x-amz-json-1.0',
    },
    body: JSON.stringify(input),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`${body.__type}: ${body.message}`);
  return body;
}

/** `path` read now and every `everyMs` while `live` says so; `refresh` reads it at once. */
export function usePolled(path, everyMs, live = () => true) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  const refresh = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let stopped = false;
    let timer;
    const read = async () => {
      try {
        const data = await getJson(path);
        if (stopped) return;
        setState({ data, error: undefined });
        if (live(data)) timer = setTimeout(read, everyMs);
      } catch (error) {
        if (!stopped) setState((s) => ({ ...s, error }));
        if (!stopped) timer = setTimeout(read, everyMs);
      }
    };
    read();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, tick]);
  return { ...state, refresh };
}
