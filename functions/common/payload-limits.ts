/**
 * What Step Functions accepts, and how Spectra keeps within it whatever the SQL, the result or
 * the error (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, and the
 * API shapes `StateExitedEventDetails` and `TaskFailedEventDetails`).
 */
export const STEP_FUNCTIONS_LIMITS = {
  /** A state's input or output, or the execution's, as UTF-8 JSON text. */
  payloadBytes: 262_144,
  /** A failure's `cause`. */
  causeCharacters: 32_768,
} as const;

/**
 * The most of Redshift's error text the workflow carries. Its messages are a line or two, but one
 * can quote a value of the statement (`invalid input syntax for type integer: "<100 KB>"`), and
 * the state already carries the SQL (up to 100 KB) from step to step.
 */
export const STATEMENT_ERROR_MAX_BYTES = 8 * 1024;

/**
 * `text` cut to at most `maxBytes` of UTF-8, at a character's boundary, saying that it was cut and
 * how long it was; unchanged when it fits.
 */
export function clipText(text: string, maxBytes: number): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const note = ` … [cut: ${bytes} bytes in all]`;
  let kept = text.slice(0, Math.max(0, maxBytes - Buffer.byteLength(note, 'utf8')));
  while (Buffer.byteLength(kept, 'utf8') + Buffer.byteLength(note, 'utf8') > maxBytes)
    kept = kept.slice(0, -1);
  // A lone high surrogate left at the end would not be valid UTF-16 text.
  if (/[\uD800-\uDBFF]$/.test(kept)) kept = kept.slice(0, -1);
  return `${kept}${note}`;
}
