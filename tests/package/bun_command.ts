/**
 * How the test runners start Bun: `bun` from the PATH, else the tested release through npx (a CI
 * machine has only Node).
 *
 * @module
 */

/** The tested Bun release, fetched through npx where no `bun` is on the PATH. */
export const BUN_VERSION = "1.4.5";

function onPath(cmd: string): boolean {
  const dirs = (Deno.env.get("PATH") ?? "").split(":");
  return dirs.some((d) => {
    try {
      return Deno.statSync(`${d}/${cmd}`).isFile;
    } catch {
      return false;
    }
  });
}

/**
 * The command and leading arguments that run Bun: `["bun"]` or `["npx", "-y", "bun@1.4.5"]`.
 *
 * @example
 * ```ts ignore
 * const [cmd, ...args] = bunCommand();
 * await new Deno.Command(cmd, { args: [...args, "--version"] }).output();
 * ```
 */
export function bunCommand(): string[] {
  return onPath("bun") ? ["bun"] : ["npx", "-y", `bun@${BUN_VERSION}`];
}
