// What `pnpm bench` (scripts/bench.mjs) expects of a suite: the types every package's src/bench/*.bench.ts implements.

/** One measured run of a case. */
export interface BenchResult {
  /** Wall time the run took. */
  seconds: number;
  /** The measured value, in the case's `unit`. */
  value: number;
  /** Further figures kept in the raw results (and shown when the case sets `showExtra`). */
  extra?: Record<string, number | string>;
}

/**
 * One benchmark case. The runner calibrates `run(iterations)` to about `--target-s` seconds (unless
 * `fixedIterations` is set), then measures it once per round, interleaved with every other case.
 */
export interface BenchCase {
  name: string;
  /** Cases of one group are compared with the group's peers, per round. */
  group?: string;
  unit: string;
  better: 'higher' | 'lower';
  /** A peer (memcpy, GStreamer, ffmpeg, uvcvideo…): reported beside the group's other cases, never filtered out. */
  peer?: boolean;
  /** Print `extra` in the table. */
  showExtra?: boolean;
  /** Iterations per run, skipping calibration (e.g. cases that replay rounds measured elsewhere). */
  fixedIterations?: number;
  setup?(): Promise<void> | void;
  teardown?(): Promise<void> | void;
  run(iterations: number): Promise<BenchResult>;
}

/** What the runner tells a suite when it asks for its cases. */
export interface SuiteOptions {
  /** Rounds the runner will measure. */
  rounds?: number;
  /** True when the suite was asked for by name, false when a bare `pnpm bench` swept it up. */
  named?: boolean;
}

/** The default export of a `<suite>.bench.ts` file. */
export interface BenchSuite {
  name: string;
  cases(options?: SuiteOptions): Promise<BenchCase[]>;
}
