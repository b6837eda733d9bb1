// The Spectra local console: executions, one execution (graph, states, events, query, result),
// and the session pools. It reads /console/api/ and sends Stop and Redrive to the Step Functions
// API of the same endpoint.

import htm from 'htm';
import { h, render } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { HitRateChart } from './charts.js';
import { layout, StateGraph } from './graph.js';

const html = htm.bind(h);
const BASE = '/console';
const LIVE_MS = 1000;

// --- data --------------------------------------------------------------------------------------

async function getJson(path) {
  const response = await fetch(`${BASE}/api${path}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

/** A Step Functions call, as the AWS SDK makes it. */
async function stepFunctions(operation, input) {
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
function usePolled(path, everyMs, live = () => true) {
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

// --- routing -----------------------------------------------------------------------------------

function navigate(href) {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

function Link({ href, children, ...rest }) {
  const follow = (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${follow} ...${rest}>${children}</a>`;
}

const executionHref = (arn) => `${BASE}/executions/${encodeURIComponent(arn)}`;

// --- formatting --------------------------------------------------------------------------------

const time = (value) => (value ? new Date(value).toLocaleTimeString() : '');
const dateTime = (value) => (value ? new Date(value).toLocaleString() : '');

function duration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

const elapsed = (from, to) => duration(new Date(to ?? Date.now()) - new Date(from));

/** A JSON string pretty-printed; any other text as it is. */
function pretty(value) {
  if (typeof value !== 'string') return JSON.stringify(value, null, 2);
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

const Status = ({ status }) => html`<span class=${`status ${status}`}>${status}</span>`;

// --- executions --------------------------------------------------------------------------------

function Executions() {
  const [status, setStatus] = useState('');
  const [tenant, setTenant] = useState('');
  const [pages, setPages] = useState(['']);
  const token = pages.at(-1);
  const query = new URLSearchParams({ status, tenant, nextToken: token });
  const { data, error } = usePolled(`/executions?${query}`, LIVE_MS);
  const filter = (set) => (event) => {
    set(event.target.value);
    setPages(['']);
  };
  return html`
    <section>
      <h1>Executions</h1>
      <form class="filters" onSubmit=${(e) => e.preventDefault()}>
        <label>Status
          <select name="status" value=${status} onChange=${filter(setStatus)}>
            <option value="">Any</option>
            ${['RUNNING', 'SUCCEEDED', 'FAILED', 'ABORTED', 'TIMED_OUT'].map(
              (s) => html`<option value=${s}>${s}</option>`,
            )}
          </select>
        </label>
        <label>Tenant <input name="tenant" value=${tenant} onInput=${filter(setTenant)} placeholder="any" /></label>
      </form>
      ${error && html`<p class="error">${error.message}</p>`}
      <table class="executions">
        <thead><tr><th>Status</th><th>Name</th><th>Tenant</th><th>Started</th><th>Duration</th><th>Error</th><th>Redrives</th></tr></thead>
        <tbody>
          ${(data?.executions ?? []).map(
            (e) => html`<tr data-execution=${e.executionArn}>
              <td><${Status} status=${e.status} /></td>
              <td><${Link} href=${executionHref(e.executionArn)}>${e.name}<//></td>
              <td>${e.tenantId}</td>
              <td>${dateTime(e.startedAt)}</td>
              <td>${e.stoppedAt ? duration(e.durationMs) : elapsed(e.startedAt)}</td>
              <td>${e.error ?? ''}</td>
              <td>${e.redriveCount || ''}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${data && data.executions.length === 0 && html`<p class="empty">No executions${status || tenant ? ' match' : ' yet'}.</p>`}
      <nav class="pager">
        <button disabled=${pages.length === 1} onClick=${() => setPages(pages.slice(0, -1))}>Newer</button>
        <button disabled=${!data?.nextToken} onClick=${() => setPages([...pages, data.nextToken])}>Older</button>
      </nav>
    </section>
  `;
}

// --- one execution -----------------------------------------------------------------------------

function Actions({ detail, refresh }) {
  const [message, setMessage] = useState('');
  const { query, redrive } = detail;
  const act = (label, operation) => async () => {
    setMessage(`${label}…`);
    try {
      await stepFunctions(operation, { executionArn: query.executionArn });
      setMessage('');
    } catch (error) {
      setMessage(error.message);
    }
    refresh();
  };
  // A redrive runs the state the execution ended in again: after a Catch, that is the Fail state.
  const last = detail.timeline.at(-1);
  const failsAgain = redrive.status === 'REDRIVABLE' && last?.type === 'Fail';
  return html`<div class="actions">
    <button class="stop" disabled=${query.status !== 'RUNNING'} onClick=${act('Stopping', 'StopExecution')}>Stop</button>
    <button class="redrive" disabled=${redrive.status !== 'REDRIVABLE'} title=${redrive.reason ?? ''} onClick=${act('Redriving', 'RedriveExecution')}>Redrive</button>
    ${message && html`<span class="message" role="status">${message}</span>`}
    ${failsAgain && !message && html`<span class="message">Redrive runs ${last.state} again, so this query would fail the same way.</span>`}
  </div>`;
}

function Summary({ detail }) {
  const { query, redrive } = detail;
  return html`<dl class="summary">
    <dt>Status</dt><dd><${Status} status=${query.status} /></dd>
    <dt>Tenant</dt><dd>${query.tenantId}</dd>
    <dt>Started</dt><dd>${dateTime(query.startedAt)}</dd>
    <dt>Duration</dt><dd>${query.stoppedAt ? duration(query.durationMs) : elapsed(query.startedAt)}</dd>
    <dt>Redrives</dt><dd>${redrive.count}${redrive.date ? ` (last ${dateTime(redrive.date)})` : ''}</dd>
    <dt>ARN</dt><dd class="arn">${query.executionArn}</dd>
  </dl>`;
}

function Failure({ query }) {
  if (!query.error) return null;
  return html`<div class="banner failed" role="alert">
    <strong>${query.error}</strong> ${query.cause?.message ?? ''}
    <details><summary>Cause</summary><pre>${pretty(query.cause)}</pre></details>
  </div>`;
}

function States({ timeline, selected, onSelect }) {
  return html`<table class="states">
    <thead><tr><th>State</th><th>Type</th><th>Entered</th><th>Duration</th><th>Outcome</th><th>Retries</th><th>Error</th></tr></thead>
    <tbody>
      ${timeline.map(
        (
          visit,
        ) => html`<tr class=${`${visit.outcome}${selected === visit.state ? ' selected' : ''}`} data-state=${visit.state} onClick=${() => onSelect(visit.state)}>
          <td>${visit.state}</td>
          <td>${visit.type}</td>
          <td>${time(visit.enteredAt)}</td>
          <td>${duration(visit.durationMs)}</td>
          <td class="outcome">${visit.outcome}</td>
          <td>${visit.attempts > 1 ? visit.attempts - 1 : ''}</td>
          <td>${visit.error ?? ''}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

const FAILED_EVENT = /Failed$|TimedOut$|Aborted$/;

/** The state an event belongs to: its own name, or the last state entered before it. */
function stateOfEvents(events) {
  let current = '';
  return events.map((event) => {
    current =
      event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name ?? current;
    return current;
  });
}

function Events({ events, selected }) {
  const states = useMemo(() => stateOfEvents(events), [events]);
  return html`<ol class="events">
    ${events.map((event, i) => {
      const details = Object.entries(event).filter(([key]) => key.endsWith('EventDetails'));
      const failed = FAILED_EVENT.test(event.type);
      return html`<li class=${`${failed ? 'failed' : ''}${selected && states[i] === selected ? ' selected' : ''}`} data-event-type=${event.type}>
        <details>
          <summary>
            <span class="id">${event.id}</span>
            <span class="type">${event.type}</span>
            <span class="state">${states[i]}</span>
            <time>${time(event.timestamp)}</time>
          </summary>
          ${details.map(
            ([key, fields]) => html`<div class="detail">
            <h4>${key}</h4>
            ${Object.entries(fields).map(
              ([name, value]) =>
                html`<div class=${`field ${name}`}><span>${name}</span><pre>${pretty(value)}</pre></div>`,
            )}
          </div>`,
          )}
        </details>
      </li>`;
    })}
  </ol>`;
}

/** Hit or miss, and the session the statement ran on. */
function sessionText(statement) {
  if (statement === undefined) return '—';
  const used = statement.sessionId ?? '(none: ran without a session)';
  if (statement.leased === null) return `miss: opened ${used}`;
  if (statement.sessionReused) return `hit: reused ${used}`;
  return `hit on ${statement.leased}, which the Data API refused: opened ${used}`;
}

function QueryPanel({ detail }) {
  const { query, statement } = detail;
  return html`<section class="query">
    <h2>Query</h2>
    <pre class="sql">${query.sql}</pre>
    ${query.parameters?.length > 0 && html`<p>Parameters: ${query.parameters.map((p) => `${p.name} = ${p.value}`).join(', ')}</p>`}
    <dl>
      <dt>Statement</dt><dd class="statement-id">${statement?.statementId ?? '—'}</dd>
      <dt>Session</dt>
      <dd class="session">${sessionText(statement)}</dd>
    </dl>
  </section>`;
}

function Download({ download }) {
  if (!download) return null;
  if (download.error) return html`<p class="download error">${download.error}</p>`;
  return html`<p class="download">
    All ${download.rows} rows are in the results bucket until ${new Date(download.expiresAt).toLocaleString()}:${' '}
    <a class="download-link" href=${download.url} download="rows.jsonl.gz">Download rows.jsonl.gz</a>
    ${' '}<small>(gzip JSON Lines, ${(download.bytes / 1e6).toFixed(1)} MB)</small>
  </p>`;
}

function Result({ result, download }) {
  if (!result) return null;
  const shown = result.result
    ? `The first ${result.rowCount} of ${result.result.rows} rows`
    : `${result.rowCount} of ${result.totalRows} rows`;
  return html`<section class="result">
    <h2>Result</h2>
    <p>${shown}${result.truncated ? ' (rowLimit or byteLimit left out the rest)' : ''}</p>
    <${Download} download=${download} />
    <table class="rows">
      <thead><tr>${result.columns.map((c) => html`<th title=${c.type}>${c.name}</th>`)}</tr></thead>
      <tbody>${result.rows.map((row) => html`<tr>${row.map((v) => html`<td>${v === null ? 'NULL' : String(v)}</td>`)}</tr>`)}</tbody>
    </table>
  </section>`;
}

function Execution({ arn }) {
  const definition = usePolled('/definition', 0, () => false);
  const detail = usePolled(
    `/executions/${encodeURIComponent(arn)}`,
    LIVE_MS,
    (d) => d.query.status === 'RUNNING',
  );
  const [selected, setSelected] = useState(undefined);
  const laidOut = useMemo(() => definition.data && layout(definition.data), [definition.data]);
  const data = detail.data;
  if (detail.error && !data) return html`<p class="error">${detail.error.message}</p>`;
  if (!data || !laidOut) return html`<p class="loading">Loading…</p>`;
  const select = (state) => setSelected(state === selected ? undefined : state);
  return html`<section class="execution">
    <p><${Link} href=${BASE}>← Executions<//></p>
    <h1>${data.query.name}</h1>
    <${Actions} detail=${data} refresh=${detail.refresh} />
    <${Summary} detail=${data} />
    <${Failure} query=${data.query} />
    <div class="columns">
      <${StateGraph} laidOut=${laidOut} timeline=${data.timeline} selected=${selected} onSelect=${select} />
      <div>
        <${QueryPanel} detail=${data} />
        <${Result} result=${data.query.result} download=${data.download} />
      </div>
    </div>
    <h2>States</h2>
    <${States} timeline=${data.timeline} selected=${selected} onSelect=${select} />
    <h2>Events <small>(${data.events.length})</small></h2>
    <${Events} events=${data.events} selected=${selected} />
  </section>`;
}

// --- sessions ----------------------------------------------------------------------------------

function Sessions() {
  const { data, error } = usePolled('/sessions', 2 * LIVE_MS);
  return html`<section class="sessions">
    <h1>Sessions</h1>
    ${error && html`<p class="error">${error.message}</p>`}
    <h2>Hit rate <small>(per ${data ? data.hitRate.bucketMs / 1000 : 10} s)</small></h2>
    ${data && (data.hitRate.buckets.length > 0 ? html`<${HitRateChart} buckets=${data.hitRate.buckets} />` : html`<p class="empty">No session acquired yet.</p>`)}
    ${data?.pools.length === 0 && html`<p class="empty">No pooled sessions yet.</p>`}
    ${data?.pools.map(
      (pool) => html`<div class="pool" data-tenant=${pool.tenantId}>
        <h2>${pool.tenantId}</h2>
        <table>
          <thead><tr><th>Session</th><th>State</th><th>Lease owner</th><th>Last used</th><th>Expires</th></tr></thead>
          <tbody>
            ${pool.sessions.map(
              (s) => html`<tr data-session=${s.id}>
                <td class="arn">${s.id}</td>
                <td><span class=${`status ${s.state}`}>${s.state}</span></td>
                <td>${s.leaseOwner ? html`<${Link} href=${executionHref(s.leaseOwner)}>${s.leaseOwner.split(':').at(-1)}<//>` : ''}</td>
                <td>${dateTime(s.lastUsedAt)}</td>
                <td>${dateTime(s.expiresAt)}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>`,
    )}
  </section>`;
}

// --- shell -------------------------------------------------------------------------------------

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
