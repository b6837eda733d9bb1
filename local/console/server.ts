import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeJson } from '../aws-json.ts';
import { CONSOLE_PATH } from '../identity.ts';
import type { ConsoleApi } from './api.ts';

/**
 * The local console under `/console`: one page (Preact and htm, no build step), the libraries it
 * imports, served from node_modules so that nothing is fetched from the internet, and the
 * read-only JSON it reads under `/console/api/`. Stop and Redrive go to the Step Functions API
 * the endpoint already serves. The endpoint lets only loopback callers with a loopback Host and
 * Origin reach these routes.
 */

const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const require = createRequire(import.meta.url);

/** An installed package's folder: up from its entry point (not every package exports package.json). */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === name)
      return dir;
    dir = dirname(dir);
  }
  throw new Error(`The console needs the package ${name}; run npm ci`);
}

/** What the page may import, by URL under /console/vendor/: a file of an installed package. */
const VENDOR_FILES: Record<string, () => string> = {
  'preact.mjs': () => join(packageDir('preact'), 'dist/preact.mjs'),
  'preact-hooks.mjs': () => join(packageDir('preact'), 'hooks/dist/hooks.mjs'),
  'htm.mjs': () => join(packageDir('htm'), 'dist/htm.mjs'),
  'dagre.mjs': () => join(packageDir('@dagrejs/dagre'), 'dist/dagre.esm.js'),
  'uplot.mjs': () => join(packageDir('uplot'), 'dist/uPlot.esm.js'),
  'uplot.css': () => join(packageDir('uplot'), 'dist/uPlot.min.css'),
};

/** The page's own files, by URL under /console/static/. */
const PAGE_FILES = [
  'app.js',
  'data.js',
  'routing.js',
  'format.js',
  'executions.js',
  'execution.js',
  'sessions.js',
  'graph.js',
  'charts.js',
  'style.css',
];

const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: `${CONSOLE_PATH}/vendor/preact.mjs`,
    'preact/hooks': `${CONSOLE_PATH}/vendor/preact-hooks.mjs`,
    htm: `${CONSOLE_PATH}/vendor/htm.mjs`,
    '@dagrejs/dagre': `${CONSOLE_PATH}/vendor/dagre.mjs`,
    uplot: `${CONSOLE_PATH}/vendor/uplot.mjs`,
  },
});

/** The one inline script, the import map, is allowed by its hash; everything else by origin. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  `script-src 'self' 'sha256-${createHash('sha256').update(IMPORT_MAP).digest('base64')}'`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};
const typeOf = (file: string) => TYPES[file.slice(file.lastIndexOf('.'))] ?? 'text/plain';

function send(res: ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': CONTENT_SECURITY_POLICY,
  });
  res.end(body);
}

async function indexHtml(): Promise<string> {
  const template = await readFile(join(PAGE_DIR, 'index.html'), 'utf8');
  return template.replace('<!-- import map -->', `<script type="importmap">${IMPORT_MAP}</script>`);
}

/** Handles a request whose path starts with `/console`. */
export function consoleRoutes(api: ConsoleApi) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.slice(CONSOLE_PATH.length);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      writeJson(res, 405, { message: 'The console is read-only: GET only' }, 'application/json');
      return;
    }
    if (path.startsWith('/api/')) {
      const answer = await api.answer(path.slice('/api'.length), url.searchParams);
      writeJson(res, answer.status, answer.body, 'application/json');
      return;
    }
    if (path.startsWith('/vendor/')) {
      const file = VENDOR_FILES[path.slice('/vendor/'.length)];
      if (file) send(res, 200, await readFile(file()), typeOf(file()));
      else send(res, 404, 'Not found', 'text/plain');
      return;
    }
    if (path.startsWith('/static/')) {
      const name = path.slice('/static/'.length);
      if (PAGE_FILES.includes(name))
        send(res, 200, await readFile(join(PAGE_DIR, name)), typeOf(name));
      else send(res, 404, 'Not found', 'text/plain');
      return;
    }
    // Every other path is a view of the page, which routes itself.
    send(res, 200, await indexHtml(), 'text/html; charset=utf-8');
  };
}
