// The executions: newest first, filtered by status and tenant, page by page.

import htm from 'htm';
import { h } from 'preact';
import { useState } from 'preact/hooks';
import { LIVE_MS, usePolled } from './data.js';
import { dateTime, duration, elapsed, Status } from './format.js';
import { executionHref, Link } from './routing.js';

const html = htm.bind(h);

export function Executions() {
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
