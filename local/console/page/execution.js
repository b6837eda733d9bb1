// One execution: its summary and actions (Stop, Redrive), the state graph, the states and
// events, the query and its result.

import htm from 'htm';
import { h } from 'preact';
import { useMemo, useState } from 'preact/hooks';
import { LIVE_MS, stepFunctions, usePolled } from './data.js';
import { dateTime, duration, elapsed, pretty, Status, time } from './format.js';
import { layout, StateGraph } from './graph.js';
import { BASE, Link } from './routing.js';

const html = htm.bind(h);

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

export function Execution({ arn }) {
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
