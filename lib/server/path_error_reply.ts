/**
 * Maps file-system failures ({@linkcode PathError} kinds) to FTP replies.
 *
 * @module
 */

import type { PathError } from "../errors.ts";

/** A reply code and its text. */
export interface FinalReply {
  /** The code. */
  code: number;
  /** One line or several. */
  text: string | readonly string[];
}

/**
 * Chooses the reply for a failed file-system operation. Texts follow aioftp's where it has
 * one; it has no separate texts for "not empty", "no space" or bad names.
 *
 * @param error The failure.
 * @param creating Whether the command names a path to create (STOR, MKD, RNTO...), where a
 * bad name is `553` rather than `501`.
 * @returns The reply to send.
 */
export function pathErrorReply(error: PathError, creating = false): FinalReply {
  switch (error.kind) {
    case "not-found":
      return { code: 550, text: "path does not exist" };
    case "exists":
      return { code: 550, text: "path already exists" };
    case "not-a-directory":
      return { code: 550, text: "path is not a directory" };
    case "is-a-directory":
      return { code: 550, text: "path is not a file" };
    case "not-empty":
      return { code: 550, text: "directory not empty" };
    case "permission-denied":
      return { code: 550, text: "permission denied" };
    case "no-space":
      return { code: 452, text: "insufficient storage space" };
    case "invalid-path":
      return creating
        ? { code: 553, text: "file name not allowed" }
        : { code: 501, text: "invalid path" };
    case "io":
      return { code: 451, text: "file system error" };
  }
}
