import stringWidth from 'string-width';

/**
 * Text bound for a terminal. A terminal obeys the control characters in what it prints: ESC
 * starts sequences that recolour, move the cursor, retitle the window or (OSC 8) turn text into a
 * link to anywhere, BEL rings, a C1 character such as U+009B acts as ESC [ does, and DEL and
 * carriage returns overwrite what is shown. A value a query returned may hold any of them, so
 * nothing of it reaches a terminal unescaped; and text is aligned by the columns it fills, which
 * for CJK and emoji is two per character.
 */

/**
 * C0 (U+0000-U+001F), DEL and C1 (U+0080-U+009F), which are `\p{Cc}`, plus the Unicode line and
 * paragraph separators and the bidirectional embedding, override and isolate controls, which move
 * or reorder what is shown rather than show anything. Values also double their backslashes.
 */
const VALUE_ESCAPES = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069\\]/gu;
const MESSAGE_ESCAPES = /(?!\n)[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;
const NAMED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escaped(char: string): string {
  const named = NAMED[char];
  if (named !== undefined) return named;
  const code = char.charCodeAt(0);
  return code < 0x100
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` with every control character written as an escape (`\x1b`, `\x07`, `\x9b`, `\u202e`;
 * `\n`, `\r`, `\t`), and backslashes doubled so an escape in the data cannot pass for one made
 * here: a table cell shows what the value holds, on one line.
 *
 * Written here because the packages for this do something else: strip-ansi and Node's
 * `util.stripVTControlCharacters` delete escape sequences (the value would be shown altered, not
 * as it is) and leave a lone BEL or C1 character; jsesc escapes every non-ASCII character, so
 * CJK text would show as `\u6771`.
 */
export function escapeControls(text: string): string {
  return text.replace(VALUE_ESCAPES, escaped);
}

/**
 * `text` as a message on a terminal: control characters escaped as {@link escapeControls} does,
 * except line feeds, which keep a multi-line message (Redshift's error text) readable. Backslashes
 * are left as they are, since a message is not read back as a value.
 */
export function escapeMessage(text: string): string {
  return text.replace(MESSAGE_ESCAPES, escaped);
}

/** The columns a terminal fills to show `text`: 2 per CJK character or emoji, 0 per combining mark. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` padded with spaces on the right to fill `width` columns. */
export function padEndTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

/** `text` padded with spaces on the left to fill `width` columns. */
export function padStartTo(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}
