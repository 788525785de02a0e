/**
 * The bench's results and their markdown tables: medians per cell, failures and `n/a`, a `†`
 * on cells where other work took more than a tenth of the machine during a repetition, and
 * the ratio of each of our runtimes to the best peer of its row (≥ 1 is good, for times too:
 * best ÷ ours).
 *
 * @module
 */

import { writeFileSync } from "node:fs";
import type { Memory } from "./proc.ts";
import { type Side, type WorkloadKey, WORKLOADS } from "./workloads.ts";
import type { Sizes } from "./fixtures.ts";

/** One measured repetition. */
export interface Sample {
  /** Which repetition (from 1). */
  rep: number;
  /** The figure. */
  value: number;
  /** Wall seconds of the client process. */
  seconds: number;
  /** Server CPU seconds (its whole process tree). */
  serverCpu: number;
  /** Client CPU seconds. */
  clientCpu: number;
  /** Our driver's own seconds, start-up left out. */
  inProcess?: number;
  /** The server's peak memory (the concurrent workload). */
  peak?: Memory;
  /** Share of the machine (all cores) busy with other work during the run. */
  foreign: number;
}

/** The results of one (side, workload, participant). */
export interface Cell {
  /** The repetitions that passed. */
  samples: Sample[];
  /** The ones that did not, with why. */
  failures: string[];
  /** Why the participant cannot do it at all. */
  na?: string;
}

/** Every cell, by {@linkcode cellKey}. */
export type Results = Map<string, Cell>;

/**
 * The key of a cell.
 *
 * @param side Server or client side.
 * @param workload The workload.
 * @param who The participant (the server on the server side, the client on the client side).
 * @returns The key.
 */
export function cellKey(side: Side, workload: WorkloadKey, who: string): string {
  return `${side}|${workload}|${who}`;
}

/** Median of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A number with about three significant digits. */
export function formatNumber(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

const NOISY = 0.1;

/** What a table shows of a cell: a figure taken from its samples. */
type Pick = (sample: Sample) => number | undefined;

function cellText(cell: Cell | undefined, pick: Pick): { text: string; value?: number } {
  if (!cell) return { text: "–" };
  if (cell.na) return { text: "n/a" };
  const values = cell.samples.map(pick).filter((v): v is number => v !== undefined);
  const total = cell.samples.length + cell.failures.length;
  if (values.length === 0) return { text: cell.failures.length ? "FAILED" : "–" };
  const value = median(values);
  const noisy = cell.samples.some((s) => s.foreign > NOISY) ? "†" : "";
  const failed = cell.failures.length ? ` (${cell.failures.length}/${total} failed)` : "";
  return { text: `${formatNumber(value)}${noisy}${failed}`, value };
}

/** A table's columns. */
export interface Columns {
  /** Our participants, in order (`ours-deno`...). */
  ours: string[];
  /** The peers. */
  peers: string[];
  /** Column headings by participant. */
  heading: (who: string) => string;
}

/** One row of a table. */
interface Row {
  title: string;
  workload: WorkloadKey;
  pick: Pick;
  higherIsBetter: boolean;
}

function table(
  side: Side,
  rows: Row[],
  columns: Columns,
  results: Results,
  ratioTitle: string,
): string {
  const who = [...columns.ours, ...columns.peers];
  const runtimes = columns.ours.map((o) => columns.heading(o).replace(/^ours, /, ""));
  const lines = [
    `| workload | ${who.map(columns.heading).join(" | ")} | ${ratioTitle} (${
      runtimes.join(" / ")
    }) |`,
    `|---|${who.map(() => "---|").join("")}---|`,
  ];
  for (const row of rows) {
    const cells = who.map((w) => cellText(results.get(cellKey(side, row.workload, w)), row.pick));
    const peerValues = cells.slice(columns.ours.length).map((c) => c.value)
      .filter((v): v is number => v !== undefined && v > 0);
    const best = peerValues.length
      ? (row.higherIsBetter ? Math.max(...peerValues) : Math.min(...peerValues))
      : undefined;
    const ratios = cells.slice(0, columns.ours.length).map((c) => {
      if (best === undefined || c.value === undefined || c.value <= 0) return "–";
      const ratio = row.higherIsBetter ? c.value / best : best / c.value;
      return ratio.toFixed(2);
    });
    lines.push(
      `| ${row.title} | ${cells.map((c) => c.text).join(" | ")} | ${ratios.join(" / ")} |`,
    );
  }
  return lines.join("\n");
}

const MIB = 1024 * 1024;

/**
 * The markdown tables of one side: figures, then CPU seconds, then (client side) our client's
 * figures with its start-up left out.
 *
 * @param side Server or client.
 * @param workloads The workloads run on that side, in row order.
 * @param sizes The sizes (row titles).
 * @param columns The participants.
 * @param results Every cell.
 * @returns Markdown.
 */
export function sideTables(
  side: Side,
  workloads: WorkloadKey[],
  sizes: Sizes,
  columns: Columns,
  results: Results,
): string {
  const figures: Row[] = [];
  for (const key of workloads) {
    const workload = WORKLOADS[key];
    figures.push({
      title: workload.title(sizes),
      workload: key,
      pick: (s) => s.value,
      higherIsBetter: workload.higherIsBetter,
    });
    if (key === "conc" && side === "server") {
      figures.push({
        title: `peak RSS during those ${sizes.concClients} clients, MiB (Σ over processes)`,
        workload: key,
        pick: (s) => s.peak && s.peak.rss / MIB,
        higherIsBetter: false,
      });
      figures.push({
        title: `peak PSS during those ${sizes.concClients} clients, MiB (Σ over processes)`,
        workload: key,
        pick: (s) => s.peak && s.peak.pss / MIB,
        higherIsBetter: false,
      });
    }
  }
  const out = [table(side, figures, columns, results, "ours ÷ best peer")];
  const cpuRows: Row[] = workloads.filter((k) => k !== "idle").map((key) => ({
    title: WORKLOADS[key].title(sizes).replace(/,[^,]*$/, ""),
    workload: key,
    pick: (s) => side === "server" ? s.serverCpu : s.clientCpu,
    higherIsBetter: false,
  }));
  if (cpuRows.length) {
    out.push(
      `\n${side === "server" ? "Server" : "Client"} CPU seconds per run (user + system${
        side === "server" ? ", the server's whole process tree" : ", the client process"
      }), median; ratio best ÷ ours:\n`,
    );
    out.push(table(side, cpuRows, columns, results, "best ÷ ours"));
  }
  if (side === "client") {
    const inProcess: Row[] = workloads.map((key) => {
      const workload = WORKLOADS[key];
      return {
        title: workload.title(sizes),
        workload: key,
        pick: (s) => {
          if (s.inProcess === undefined) return undefined;
          return workload.higherIsBetter
            ? s.value * s.seconds / s.inProcess
            : s.value * s.inProcess / s.seconds;
        },
        higherIsBetter: workload.higherIsBetter,
      };
    });
    out.push(
      "\nOur client and ftplib timed inside their drivers, from connecting to the end of QUIT: " +
        "runtime start-up left out (the tables above time every client as a whole process). " +
        "curl and lftp have no such figure, so the ratio is to ftplib:\n",
    );
    out.push(table(side, inProcess, columns, results, "ours ÷ ftplib"));
  }
  return out.join("\n");
}

/**
 * The failures, one line each.
 *
 * @param results Every cell, by its key (`|`-separated).
 * @returns Markdown list lines.
 */
function failureLines(results: Map<string, { failures: string[] }>): string[] {
  const lines: string[] = [];
  for (const [key, cell] of results) {
    for (const failure of cell.failures) lines.push(`- ${key.replaceAll("|", " ")}: ${failure}`);
  }
  return lines;
}

/**
 * The first line of a report: its title and when the run started, in minutes, UTC.
 *
 * @param title What ran (`streamftp bench`).
 * @param startedAt When.
 * @param remark A note in parentheses after the time (`--quick`), if any.
 * @returns A markdown heading and an empty line.
 */
export function reportHeading(title: string, startedAt: Date, remark?: string): string {
  const when = startedAt.toISOString().slice(0, 16).replace("T", " ");
  return `# ${title}, ${when} UTC${remark ? ` (${remark})` : ""}\n`;
}

/** What `--json` writes besides the notes: the run, the machine, the options and every cell. */
export interface RawResults {
  /** When the run started. */
  startedAt: Date;
  /** How long it took, seconds. */
  seconds: number;
  /** The machine. */
  machine: { cpu: string; cores: number };
  /** The parsed command line. */
  options: object;
  /** The participants' versions. */
  versions: object;
  /** Every cell, with its samples and failures. */
  cells: object[];
}

/** A finished report, for {@linkcode publishReport}. */
export interface Report {
  /** Its lines: heading, tables. */
  lines: string[];
  /** What was not measured, and why. */
  notes: string[];
  /** Every cell by its key (`|`-separated): its failed runs are listed. */
  results: Map<string, { failures: string[] }>;
  /** `--json FILE`, if given. */
  json?: string;
  /** The raw results that it gets (the notes added). */
  raw(): RawResults;
}

/**
 * Prints a report to stdout, its notes and failed runs last, and writes the raw results as
 * indented JSON if asked.
 *
 * @param report The report.
 * @returns The bench's exit code: 1 if a run failed, else 0.
 */
export function publishReport(report: Report): number {
  const { lines, notes, json } = report;
  const failures = failureLines(report.results);
  const out = [...lines];
  if (notes.length) out.push(`\n${notes.map((n) => `- ${n}`).join("\n")}`);
  if (failures.length) {
    out.push(`\n**${failures.length} run(s) FAILED** (not counted):\n\n${failures.join("\n")}`);
  }
  console.log(out.join("\n"));
  if (json) {
    const { startedAt, seconds, machine, options, versions, cells } = report.raw();
    const raw = {
      startedAt: startedAt.toISOString(),
      seconds,
      machine,
      options,
      versions,
      notes,
      cells,
    };
    writeFileSync(json, JSON.stringify(raw, null, 2) + "\n");
  }
  return failures.length ? 1 : 0;
}
