// How the page writes times, durations, JSON and an execution's status.

import htm from 'htm';
import { h } from 'preact';

const html = htm.bind(h);

export const time = (value) => (value ? new Date(value).toLocaleTimeString() : '');
export const dateTime = (value) => (value ? new Date(value).toLocaleString() : '');

export function duration(ms) {
  if (ms === undefined || ms === null) return '';
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export const elapsed = (from, to) => duration(new Date(to ?? Date.now()) - new Date(from));

/** A JSON string pretty-printed; any other text as it is. */
export function pretty(value) {
  if (typeof value !== 'string') return JSON.stringify(value, null, 2);
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

export const Status = ({ status }) => html`<span class=${`status ${status}`}>${status}</span>`;
