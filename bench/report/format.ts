import { round, type Spread } from '../stats.ts';

/** How the report writes numbers, ratios, tables and variant names, so every section reads alike. */

export const int = (value: number) => Math.round(value).toLocaleString('en-US');
export const num = (value: number, digits = 1) => round(value, digits).toLocaleString('en-US');
export const msOf = (value: number) => `${int(value)} ms`;
export const range = (spread: Spread, format: (value: number) => string = int) =>
  spread.runs > 1 ? `${format(spread.min)}–${format(spread.max)}` : '–';
/** A ratio: two decimals, or two significant digits when it is small enough to round to 0. */
export const times = (value: number | null) =>
  value === null ? 'n/a' : `${value < 0.1 ? value.toPrecision(2) : num(value, 2)}×`;
export const rate = (value: number) => value.toFixed(3);

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

const VARIANT_NAMES: Record<string, string> = {
  spectra: 'Spectra',
  fixed5s: 'fixed 5 s Wait loop',
  fixed1s: 'fixed 1 s Wait loop',
  singleSession: 'one cached session per tenant',
  noReuse: 'no reuse',
};
export const nameOf = (variant: string) => VARIANT_NAMES[variant] ?? variant;
