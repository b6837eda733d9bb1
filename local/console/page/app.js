// The Spectra local console: executions, one execution (graph, states, events, query, result),
// and the session pools. It reads /console/api/ and sends Stop and Redrive to the Step Functions
// API of the same endpoint.

import htm from 'htm';
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Execution } from './execution.js';
import { Executions } from './executions.js';
import { BASE, Link } from './routing.js';
import { Sessions } from './sessions.js';

const html = htm.bind(h);

function App() {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const follow = () => setPath(location.pathname);
    addEventListener('popstate', follow);
    return () => removeEventListener('popstate', follow);
  }, []);
  const route = path.slice(BASE.length);
  let view = html`<${Executions} />`;
  if (route.startsWith('/executions/')) {
    view = html`<${Execution} arn=${decodeURIComponent(route.slice('/executions/'.length))} />`;
  } else if (route === '/sessions') view = html`<${Sessions} />`;
  return html`
    <header>
      <strong>Spectra</strong> local console
      <nav>
        <${Link} href=${BASE} class=${route.startsWith('/sessions') ? '' : 'current'}>Executions<//>
        <${Link} href=${`${BASE}/sessions`} class=${route.startsWith('/sessions') ? 'current' : ''}>Sessions<//>
      </nav>
    </header>
    <main>${view}</main>
  `;
}

const root = document.getElementById('app');
root.replaceChildren();
render(html`<${App} />`, root);
