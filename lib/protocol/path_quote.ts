/**
 * Quoted path names in `257` replies (RFC 959 appendix II): the path is enclosed in double
 * quotes and a quote inside it is doubled, so `/a"b` travels as `"/a""b"`.
 *
 * @module
 */

import { ProtocolError } from "../errors.ts";

/**
 * Quotes a path for a `257` reply (PWD, MKD).
 *
 * @example Quoting
 * ```ts
 * import { quotePath } from "./path_quote.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(quotePath('/a"b'), '"/a""b"');
 * ```
 *
 * @param path The path.
 * @returns The path in double quotes, inner quotes doubled.
 */
export function quotePath(path: string): string {
  return `"${path.replaceAll('"', '""')}"`;
}

/**
 * Extracts the first quoted path of a reply text, undoing the doubled quotes.
 *
 * @example Parsing
 * ```ts
 * import { parseQuotedPath } from "./path_quote.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseQuotedPath('"/a""b" is the current directory'), '/a"b');
 * ```
 *
 * @param text The reply text (with or without the code).
 * @returns The path.
 * @throws {ProtocolError} When the text has no opening quote or no closing quote.
 */
export function parseQuotedPath(text: string): string {
  const start = text.indexOf('"');
  if (start < 0) throw new ProtocolError(`Cannot find a quoted path in ${JSON.stringify(text)}`);
  let path = "";
  let i = start + 1;
  while (i < text.length) {
    const quote = text.indexOf('"', i);
    if (quote < 0) break;
    path += text.slice(i, quote);
    if (text[quote + 1] !== '"') return path;
    path += '"';
    i = quote + 2;
  }
  throw new ProtocolError(`Unterminated quoted path in ${JSON.stringify(text)}`);
}
