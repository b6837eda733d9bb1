// The session pools, tenant by tenant, and the hit rate over time.

import htm from 'htm';
import { h } from 'preact';
import { HitRateChart } from './charts.js';
import { LIVE_MS, usePolled } from './data.js';
import { dateTime } from './format.js';
import { executionHref, Link } from './routing.js';

const html = htm.bind(h);

export function Sessions() {
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
