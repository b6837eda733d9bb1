import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable } from 'markdown-table';
import stringWidth from 'string-width';
import {
  allowedTextOf,
  CONFIG_SETTINGS,
  defaultTextOf,
  type Setting,
} from '../functions/common/config-table.ts';

/**
 * `npm run docs:config`: writes the README's configuration table from the config table
 * (functions/common/config-table.ts), between the two markers below; `-- --check` only says
 * whether the README is up to date. The README's test fails when the two disagree.
 */

export const README_PATH = fileURLToPath(new URL('../README.md', import.meta.url));
export const TABLE_START = '<!-- config-table: written by `npm run docs:config` -->';
export const TABLE_END = '<!-- /config-table -->';

/** The default as the README shows it: values as code, and what leaving the setting unset means. */
export function readmeDefaultOf(setting: Setting): string {
  const text = defaultTextOf(setting);
  if (text === undefined) return '—';
  if (setting.kind === 'list') return text;
  if (setting.kind === 'name' && setting.default === undefined) return `unset: ${text}`;
  return setting.kind === 'integer' ? text : `\`${text}\``;
}

/** The table the README shows, one row per setting, in the config table's order. */
export function configTableMarkdown(): string {
  return markdownTable(
    [
      ['variable', 'default', 'allowed', 'what it sets', 'CDK parameter'],
      ...CONFIG_SETTINGS.map((setting) => [
        `\`${setting.variable}\``,
        readmeDefaultOf(setting),
        // Rules name parts as <region>, which Markdown would take for an HTML tag.
        allowedTextOf(setting).replaceAll('<', '\\<'),
        setting.note === undefined ? setting.help : `${setting.help}; ${setting.note}`,
        setting.parameter === undefined ? '—' : `\`${setting.parameter}\``,
      ]),
    ],
    { stringLength: stringWidth },
  );
}

/** The README's text between the markers, or undefined when a marker is missing. */
export function tableInReadme(readme: string): string | undefined {
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  if (start < 0 || end < start) return undefined;
  return readme.slice(start + TABLE_START.length, end).trim();
}

async function main(args: string[]): Promise<number> {
  const readme = await readFile(README_PATH, 'utf8');
  const current = tableInReadme(readme);
  if (current === undefined) {
    console.error(`README.md has no configuration table between ${TABLE_START} and ${TABLE_END}`);
    return 1;
  }
  const table = configTableMarkdown();
  if (current === table) {
    console.log('README.md: the configuration table is up to date');
    return 0;
  }
  if (args.includes('--check')) {
    console.error(
      'README.md: the configuration table differs from functions/common/config-table.ts; run `npm run docs:config`',
    );
    return 1;
  }
  const start = readme.indexOf(TABLE_START) + TABLE_START.length;
  const end = readme.indexOf(TABLE_END);
  await writeFile(README_PATH, `${readme.slice(0, start)}\n\n${table}\n\n${readme.slice(end)}`);
  console.log('README.md: wrote the configuration table');
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
