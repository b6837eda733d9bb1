/**
 * The Data API emulator's test controls: what the `/_spectra/` routes, the benchmark and the
 * suites may change in it that the Data API itself offers no call for.
 */

/** What the controls change in how the statement runner runs statements. */
export class RunControls {
  /** Added before a statement opens a new session's connection. */
  sessionOpenLatencyMs = 0;
}
