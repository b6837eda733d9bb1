/**
 * What Step Functions accepts, and how Spectra keeps within it whatever the SQL, the result or
 * the error (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html, and the
 * API shapes `StateExitedEventDetails` and `TaskFailedEventDetails`).
 */
export const STEP_FUNCTIONS_LIMITS = {
  /** A state's input or output, a task's result, or the execution's input or output, as UTF-8 JSON text. */
  payloadBytes: 262_144,
  /** A failure's `cause`. */
  causeCharacters: 32_768,
  /** A failure's `error` (its name). */
  errorCharacters: 256,
  /** Events in a Standard execution's history; the 25,000th ends it (`States.Runtime`). */
  historyEvents: 25_000,
} as const;

/**
 * The most the workflow's own state takes beside the execution input, with room to spare: ids and
 * the query's settings (the SQL and parameters are not in it), the statement with Redshift's error
 * (at most {@link STATEMENT_ERROR_MAX_BYTES}), a caught step error (at most
 * {@link ERROR_MESSAGE_MAX_BYTES} and its stack frames) and the failure's cause (at most
 * {@link CAUSE_MAX_BYTES}).
 */
export const WORKFLOW_STATE_MAX_BYTES = 40 * 1024;

/**
 * The largest execution input Spectra accepts, as UTF-8 JSON text. Two steps carry the input
 * beside the workflow's state (Submit Query reads the SQL from it; the failure path reads the
 * tenant from it), so it leaves that state room under the 256 KiB payload limit. The SQL itself
 * is at most 100 KB, as the Data API allows.
 */
export const EXECUTION_INPUT_MAX_BYTES = 200 * 1024;

/**
 * The most of a thrown error's message a function reports. Lambda reports an error as JSON with
 * its message and its stack, which Step Functions carries as the step's `Cause` (and the state
 * keeps when a Catch puts it there): see functions/common/error-boundary.ts.
 */
export const ERROR_MESSAGE_MAX_BYTES = 8 * 1024;

/**
 * The most a failed execution's JSON cause takes, half the 32,768 characters Step Functions
 * allows even when counted in bytes: the message, the ids, and Redshift's error text once.
 */
export const CAUSE_MAX_BYTES = 16 * 1024;

/**
 * The most of Redshift's error text the workflow carries. Its messages are a line or two, but one
 * can quote a value of the statement (`invalid input syntax for type integer: "<100 KB>"`), and
 * the state carries it from step to step, beside the execution input in two of them.
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
