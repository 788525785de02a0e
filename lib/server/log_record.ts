/**
 * The records a server writes through its `log` option.
 *
 * @module
 */

/** Where a log record comes from and what it says. */
export interface LogRecord {
  /** Severity. */
  level: "debug" | "info" | "warn" | "error";
  /** What happened. */
  message: string;
  /** The session's number, when the record concerns one. */
  session?: number;
  /** The error, for failures. */
  error?: unknown;
}
