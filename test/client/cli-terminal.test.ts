import { describe, expect, it } from 'vitest';
import { argv, parseCsv, parseTable, runCli as spectra } from '../support/cli.ts';
import { cellColumns, TERMINAL_CONTROLS } from '../support/terminal.ts';
import { client, useCliStack } from './cli-stack.ts';

/**
 * What the `spectra` CLI prints of values a terminal would act on or align wrongly: control
 * characters escaped in tables and messages, CJK and emoji aligned by their columns.
 */

useCliStack();

describe('CLI: spectra', () => {
  describe('values a terminal would act on, and wide characters', () => {
    const submitAndWait = async (sql: string) => {
      const submitted = await spectra(argv`submit --tenant acme --sql ${sql}`);
      const executionArn = submitted.stdout.trim();
      await client.waitForQuery(executionArn, { pollIntervalMs: 50 });
      return executionArn;
    };

    it('escapes ESC, OSC 8, BEL, C1 and DEL in the table and leaves CSV and JSON as they are', async () => {
      // Prepare: a result whose values hold what a terminal would obey
      const { sgr, osc8, bel, c1, del } = TERMINAL_CONTROLS;
      const columns = { sgr, osc8, bel, c1, del };
      const values = Object.values(columns).map((c) => c.value);
      const executionArn = await submitAndWait(
        "select chr(27) || '[31mred' || chr(27) || '[0m' as sgr, " +
          "chr(27) || ']8;;https://example.com/' || chr(7) || 'click' || chr(27) || ']8;;' || chr(7) as osc8, " +
          "'ding' || chr(7) as bel, chr(155) || '2J' || chr(157) || '0;title' || chr(156) as c1, " +
          "'rub' || chr(127) || 'out' as del",
      );

      // Act
      const [table, csv, json] = await Promise.all([
        spectra(argv`results ${executionArn}`),
        spectra(argv`results ${executionArn} --csv`),
        spectra(argv`results ${executionArn} --json`),
      ]);

      // Assess: the table shows the escapes, and no control character but its line feeds
      expect(table.code).toBe(0);
      expect(table.stdout.replaceAll('\n', '')).not.toMatch(/\p{Cc}/u);
      expect(parseTable(table.stdout).rows).toEqual([Object.values(columns).map((c) => c.shown)]);
      // CSV and JSON carry the values byte for byte, for the program that reads them
      expect(parseCsv(csv.stdout)).toEqual([Object.keys(columns), values]);
      const result = await client.getResult(executionArn);
      expect(result.rows).toEqual([values]);
      expect(json.stdout).toBe(`${JSON.stringify(result, null, 2)}\n`);
    });

    it("escapes control characters that Redshift's error message quotes back", async () => {
      // Act: the table name holds an erase-screen sequence, which the error message repeats
      const run = await spectra(argv`run --tenant acme --sql ${'select * from "\x1b[2Jnope"'}`);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).not.toContain('\x1b');
      expect(run.stderr).toContain('relation "\\x1b[2Jnope" does not exist');
    });

    it('aligns CJK and emoji columns by the columns a terminal gives them', async () => {
      // Prepare
      const executionArn = await submitAndWait(
        "select '東京' as city, 'こんにちは 🎉' as greeting, 1 as n " +
          "union all select 'Osaka', '👩‍💻 hi', 22 " +
          "union all select '大阪', 'hey 🇯🇵', 333 order by n",
      );

      // Act
      const table = await spectra(argv`results ${executionArn}`);

      // Assess: each column starts, and the numbers end, at one terminal column on every line
      expect(table.code).toBe(0);
      const [header = '', , ...rows] = table.stdout.trimEnd().split('\n');
      const rowCells = [
        ['東京', 'こんにちは 🎉', '1'],
        ['Osaka', '👩‍💻 hi', '22'],
        ['大阪', 'hey 🇯🇵', '333'],
      ];
      const headerColumns = cellColumns(header, ['city', 'greeting', 'n']);
      expect([headerColumns[0]?.start, headerColumns[1]?.start, headerColumns[2]?.end]).toEqual([
        0, 7, 25,
      ]);
      expect(rows.slice(0, 3).map((line, i) => cellColumns(line, rowCells[i] ?? []))).toEqual(
        rowCells.map(() => [
          { start: 0, end: expect.any(Number) },
          { start: 7, end: expect.any(Number) },
          { start: expect.any(Number), end: 25 },
        ]),
      );
    });
  });
});
