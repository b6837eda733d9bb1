/**
 * The translator's one error: a statement it cannot run locally with Redshift's meaning, worded
 * as Redshift words the error or saying that the construct is not emulated locally.
 */

/** A statement the translator cannot run locally with Redshift's meaning. */
export class TranslationError extends Error {
  constructor(
    message: string,
    /** PostgreSQL's SQLSTATE for it: 42601 syntax error, 0A000 feature not supported. */
    readonly sqlState: string,
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

export const notEmulated = (what: string) =>
  new TranslationError(
    `ERROR: ${what} is not emulated locally (Spectra's local stack); run it on Amazon Redshift`,
    '0A000',
  );

export const syntaxError = (near: string) =>
  new TranslationError(`ERROR: syntax error at or near "${near}"`, '42601');
