import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_SETTINGS, type Setting } from '../../functions/common/config-table.ts';
import { configTableMarkdown, README_PATH, tableInReadme } from '../../scripts/config-docs.ts';

const readme = readFileSync(README_PATH, 'utf8');

/** The README's configuration table as its rows of cells, header and delimiter left out. */
function readmeRows(): string[][] {
  const table = tableInReadme(readme) ?? '';
  return table
    .split('\n')
    .slice(2)
    .map((line) =>
      line
        .replace(/^\|\s*/, '')
        .replace(/\s*\|$/, '')
        .split(/\s+\|\s+/),
    );
}

/** What a reader of the README should see as the default, worked out from the row alone. */
function expectedDefault(setting: Setting): RegExp | string {
  switch (setting.kind) {
    case 'integer':
      return String(setting.default);
    case 'flag':
    case 'text':
      return `\`${setting.default}\``;
    case 'list':
      return 'none';
    case 'name':
      return setting.default === undefined ? /^(—|unset: .+)$/ : `\`${setting.default}\``;
  }
}

function expectedRange(setting: Setting): string {
  if (setting.kind === 'integer') return `${setting.min}–${setting.max}`;
  if (setting.kind === 'flag') return '`true` or `false`';
  return setting.allowed;
}

describe('README: the configuration table', () => {
  it('is what `npm run docs:config` writes from functions/common/config-table.ts', () => {
    // Prepare
    const written = tableInReadme(readme);
    // Assess
    expect(written, 'README.md lost its config-table markers').toBeDefined();
    expect(written, 'README.md is out of date: run `npm run docs:config`').toBe(
      configTableMarkdown(),
    );
  });

  it('has one row per setting, in order, with its variable, default, range and CDK parameter', () => {
    // Act
    const rows = readmeRows();
    // Assess
    expect(rows.map((cells) => cells[0])).toEqual(
      CONFIG_SETTINGS.map((setting) => `\`${setting.variable}\``),
    );
    CONFIG_SETTINGS.forEach((setting, at) => {
      const [, shownDefault, range, help, parameter] = rows[at] ?? [];
      const fallback = expectedDefault(setting);
      if (typeof fallback === 'string') expect(shownDefault, setting.variable).toBe(fallback);
      else expect(shownDefault, setting.variable).toMatch(fallback);
      expect(range?.replaceAll('\\<', '<'), setting.variable).toBe(expectedRange(setting));
      expect(help, setting.variable).toContain(setting.help);
      expect(parameter, setting.variable).toBe(
        setting.parameter === undefined ? '—' : `\`${setting.parameter}\``,
      );
    });
  });
});
