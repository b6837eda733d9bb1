// The console's URLs: the page routes itself with the History API, so a link changes the view
// without a reload.

import htm from 'htm';
import { h } from 'preact';

const html = htm.bind(h);
export const BASE = '/console';

export function navigate(href) {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({ href, children, ...rest }) {
  const follow = (event) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(href);
  };
  return html`<a href=${href} onClick=${follow} ...${rest}>${children}</a>`;
}

export const executionHref = (arn) => `${BASE}/executions/${encodeURIComponent(arn)}`;
