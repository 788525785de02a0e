/**
 * The command line of one `streamftp` command: its flags parsed by `node:util`'s `parseArgs`
 * (strict: an unknown flag or a missing value is a usage error), its positional arguments
 * counted, `--help` answered; and the parsers of flag values (ports, counts, byte rates).
 *
 * @module
 */

import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./exit.ts";
import { writeStdout } from "./output.ts";

/**
 * The flags of a command, in `parseArgs` form.
 *
 * @example
 * ```ts
 * import type { FlagSpec } from "./args.ts";
 *
 * const flags = {
 *   port: { type: "string", short: "p" },
 *   quiet: { type: "boolean" },
 * } satisfies FlagSpec;
 * console.assert(flags.port.short === "p");
 * ```
 */
export type FlagSpec = NonNullable<ParseArgsConfig["options"]>;

/**
 * The parsed flags of a command whose flags are `F` (with `--help` added).
 *
 * @example
 * ```ts
 * import type { FlagValues } from "./args.ts";
 *
 * const flags = { port: { type: "string" }, quiet: { type: "boolean" } } as const;
 * const values: FlagValues<typeof flags> = { port: "2121", help: false };
 * console.assert(values.quiet === undefined); // not given
 * ```
 */
export type FlagValues<F extends FlagSpec> = ReturnType<
  typeof parseArgs<{ options: F & typeof HELP_FLAG; allowPositionals: true; tokens: true }>
>["values"];

/**
 * What `parseArgs` saw, in order: flags and positionals (for flags that pair up).
 *
 * @example
 * ```ts
 * import { parseArgs } from "node:util";
 * import type { ArgToken } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const { tokens } = parseArgs({
 *   args: ["--user", "alice", "--pass", "secret"],
 *   options: { user: { type: "string" }, pass: { type: "string" } },
 *   tokens: true,
 * });
 * const names = tokens.map((token: ArgToken) => token.kind === "option" ? token.name : token.kind);
 * assert.deepEqual(names, ["user", "pass"]); // --pass follows its --user
 * ```
 */
export type ArgToken = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

/**
 * A parsed command line, handed to a command's action.
 *
 * @example
 * ```ts
 * import { defineCommand, type ParsedCommandLine } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * const flags = { loud: { type: "boolean" } } as const;
 * let seen: ParsedCommandLine<typeof flags> | undefined;
 * const hello = defineCommand({
 *   name: "hello",
 *   arguments: ["NAME"],
 *   summary: "greet someone",
 *   help: "Greets NAME.",
 *   flags,
 *   action: async (parsed) => void (seen = parsed),
 * });
 * await hello.run(["world", "--loud"]);
 * assert.deepEqual(seen?.positionals, ["world"]);
 * assert.equal(seen?.values.loud, true);
 * ```
 */
export interface ParsedCommandLine<F extends FlagSpec> {
  /** The flags. */
  values: FlagValues<F>;
  /** The positional arguments, as many as the command takes. */
  positionals: string[];
  /** Flags and positionals in the order given. */
  tokens: ArgToken[];
}

/**
 * What defines a command: its name, help, flags, arguments and action.
 *
 * @example
 * ```ts
 * import type { CommandDefinition } from "./args.ts";
 *
 * const flags = { count: { type: "string" } } as const;
 * const definition: CommandDefinition<typeof flags> = {
 *   name: "count",
 *   arguments: ["[START]"],
 *   summary: "count from START",
 *   help: "Counts.\n  --count N  how far",
 *   flags,
 *   action: async ({ values, positionals }) => {
 *     console.log(positionals[0] ?? "1", values.count);
 *   },
 * };
 * console.assert(definition.arguments.length === 1);
 * ```
 */
export interface CommandDefinition<F extends FlagSpec> {
  /** The command's name (`"ls"`). */
  name: string;
  /** The positional arguments, optional ones in brackets: `["URL", "[LOCAL]"]`. */
  arguments: string[];
  /** One line for the list of commands. */
  summary: string;
  /** The help text after the usage line: what it does, then one line per flag. */
  help: string;
  /** The flags (`--help` is added). */
  flags: F;
  /** Runs the command; what it throws decides the exit code (see `main.ts`). */
  action(parsed: ParsedCommandLine<F>): Promise<void>;
}

/**
 * A command, ready to run on its part of the command line.
 *
 * @example
 * ```ts
 * import type { Command } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import { lsCommand } from "./ls.ts";
 * import assert from "node:assert/strict";
 *
 * const command: Command = lsCommand;
 * assert.equal(command.synopsis, "ls URL");
 * await assert.rejects(command.run([]), UsageError); // "missing URL"
 * ```
 */
export interface Command {
  /** The command's name. */
  readonly name: string;
  /** `name` and its arguments, for usage lines: `"get URL [LOCAL]"`. */
  readonly synopsis: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** The full help text. */
  readonly help: string;
  /**
   * Parses the arguments and runs the command (`--help` prints the help instead).
   *
   * @param args The arguments after the command's name.
   * @throws {UsageError} When the arguments are wrong.
   */
  run(args: string[]): Promise<void>;
}

/**
 * The flag every command has: `-h`, `--help`.
 *
 * @example
 * ```ts
 * import { HELP_FLAG } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(HELP_FLAG.help.short, "h");
 * ```
 */
export const HELP_FLAG = { help: { type: "boolean", short: "h" } } as const;

/**
 * Makes a command from its definition.
 *
 * @example
 * ```ts
 * import { defineCommand } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * const greetings: string[] = [];
 * const hello = defineCommand({
 *   name: "hello",
 *   arguments: ["NAME"],
 *   summary: "greet someone",
 *   help: "Prints a greeting.\n  --loud  in capitals",
 *   flags: { loud: { type: "boolean" } },
 *   async action({ values, positionals }) {
 *     const text = `hello ${positionals[0]}`;
 *     greetings.push(values.loud ? text.toUpperCase() : text);
 *   },
 * });
 * await hello.run(["world", "--loud"]);
 * assert.deepEqual(greetings, ["HELLO WORLD"]);
 * assert.equal(hello.synopsis, "hello NAME");
 * await assert.rejects(hello.run(["world", "--quiet"]), UsageError); // an unknown flag
 * ```
 *
 * @param definition Name, help, flags, arguments and action.
 * @returns The command.
 */
export function defineCommand<const F extends FlagSpec>(definition: CommandDefinition<F>): Command {
  const synopsis = [definition.name, ...definition.arguments].join(" ");
  const help = `Usage: streamftp ${synopsis} [options]\n\n${definition.help}\n` +
    "  -h, --help            this text";
  const required = definition.arguments.filter((a) => !a.startsWith("[")).length;
  const command: Command = {
    name: definition.name,
    synopsis,
    summary: definition.summary,
    help,
    async run(args) {
      let parsed;
      try {
        parsed = parseArgs({
          args,
          options: { ...definition.flags, ...HELP_FLAG },
          strict: true,
          allowPositionals: true,
          tokens: true,
        });
      } catch (error) {
        throw new UsageError(firstSentence(error), command);
      }
      if ((parsed.values as { help?: boolean }).help) {
        await writeStdout(`${help}\n`);
        return;
      }
      const { positionals } = parsed;
      if (positionals.length < required) {
        throw new UsageError(`missing ${definition.arguments[positionals.length]}`, command);
      }
      if (positionals.length > definition.arguments.length) {
        const extra = positionals[definition.arguments.length];
        throw new UsageError(`unexpected argument "${extra}"`, command);
      }
      const values = parsed.values as FlagValues<F>;
      try {
        await definition.action({ values, positionals, tokens: parsed.tokens });
      } catch (error) {
        // A flag's value found wrong by the action: the usage to show is this command's.
        if (error instanceof UsageError) error.command ??= command;
        throw error;
      }
    },
  };
  return command;
}

/** parseArgs' messages go on with advice about `--`; the first sentence is the point. */
function firstSentence(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\. To specify a positional argument[\s\S]*$/, "");
}

/**
 * Parses a flag's value when the flag was given.
 *
 * @example
 * ```ts
 * import { parseCount, parseIfGiven } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIfGiven("--parallel", undefined, parseCount), undefined);
 * assert.equal(parseIfGiven("--parallel", "4", parseCount), 4);
 * ```
 *
 * @param flag The flag, for the parser's messages.
 * @param text Its value, `undefined` when not given.
 * @param parse The parser of the value.
 * @returns The parsed value, or `undefined`.
 */
export function parseIfGiven<T>(
  flag: string,
  text: string | undefined,
  parse: (flag: string, text: string) => T,
): T | undefined {
  return text === undefined ? undefined : parse(flag, text);
}

/**
 * Parses a TCP port.
 *
 * @example
 * ```ts
 * import { parsePort } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parsePort("--port", "2121"), 2121);
 * assert.equal(parsePort("--port", "0"), 0); // any free port
 * assert.throws(() => parsePort("--port", "65536"), UsageError);
 * ```
 *
 * @param flag The flag, for the message.
 * @param text Its value.
 * @returns The port, 0 to 65535.
 * @throws {UsageError} When the text is not a port.
 */
export function parsePort(flag: string, text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) throw new UsageError(`${flag} must be 0-65535`);
  return port;
}

/**
 * Parses a positive whole number (a count).
 *
 * @example
 * ```ts
 * import { parseCount } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseCount("--parallel", "4"), 4);
 * assert.throws(() => parseCount("--parallel", "0"), UsageError);
 * ```
 *
 * @param flag The flag, for the message.
 * @param text Its value.
 * @returns The number, at least 1.
 * @throws {UsageError} When the text is not a positive whole number.
 */
export function parseCount(flag: string, text: string): number {
  const count = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(count) || count < 1) {
    throw new UsageError(`${flag} must be a whole number above 0`);
  }
  return count;
}

/**
 * Parses a port range `MIN-MAX`.
 *
 * @example
 * ```ts
 * import { parsePortRange } from "./args.ts";
 * import { UsageError } from "./exit.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parsePortRange("--data-ports", "50000-50100"), { min: 50000, max: 50100 });
 * assert.throws(() => parsePortRange("--data-ports", "50100-50000"), UsageError);
 * ```
 *
 * @param flag The flag, for the message.
 * @param text Its value.
 * @returns The range.
 * @throws {UsageError} When the text is not a range of ports above 0.
 */
export function parsePortRange(flag: string, text: string): { min: number; max: number } {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const min = Number(match?.[1]);
  const max = Number(match?.[2]);
  if (!match || min < 1 || max > 65535 || min > max) {
    throw new UsageError(`${flag} must be MIN-MAX`);
  }
  return { min, max };
}

const BYTE_UNITS: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a byte count or rate: a number with an optional binary unit, `K`, `M` or `G` (any
 * case, 1024-based), such as `512K`, `1.5M`, `100000`.
 *
 * @example
 * ```ts
 * import { parseByteSize } from "./args.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseByteSize("--upload-limit", "512K"), 524288);
 * assert.equal(parseByteSize("--upload-limit", "1.5m"), 1572864);
 * assert.equal(parseByteSize("--upload-limit", "100000"), 100000);
 * ```
 *
 * @param flag The flag, for the message.
 * @param text Its value.
 * @returns The number of bytes, rounded down, at least 1.
 * @throws {UsageError} When the text is not such a size.
 */
export function parseByteSize(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)([kmg]?)$/i.exec(text);
  const bytes = match ? Math.floor(Number(match[1]) * BYTE_UNITS[match[2].toLowerCase()]) : NaN;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes)) {
    throw new UsageError(`${flag} must be a number of bytes, like 65536, 512K or 1.5M`);
  }
  return bytes;
}
