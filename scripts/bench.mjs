// The one benchmark entry point: `pnpm bench [suite…] [--json] [--rounds N] [--target-s S] [--only RE]`.
//
// Method (shared/bench-anchors/README.md): every case is calibrated once so a measured run takes
// about --target-s seconds, then all cases of all selected suites are measured in interleaved
// rounds (round 1 of everything, then round 2, …), so a noisy neighbour hits every case alike.
// Each non-peer case is reported as its median with min–max, beside the medians of the peers of
// its group, and with a ratio per peer taken per round and then the median. A ratio above 1 always
// means "better than the peer" (value/peer for higher-is-better units, peer/value for lower).
import { readdirSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import os from 'node:os';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function parseArgs(argv) {
  const opts = { suites: [], json: false, rounds: 5, targetS: 1, only: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') opts.json = true;
    else if (a === '--list') opts.list = true;
    else if (a === '--install') process.env.KSEMU_BENCH_INSTALL = '1';
    else if (a === '--rounds') opts.rounds = Number(next());
    else if (a === '--target-s') opts.targetS = Number(next());
    else if (a === '--only') opts.only = new RegExp(next());
    else if (a === '--quick') {
      opts.rounds = 3;
      opts.targetS = 0.5;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(
        'usage: pnpm bench [suite…] [--json] [--rounds N] [--target-s S] [--only REGEX] [--quick] [--list] [--install]\n  --install: let suites apt-get install missing peers (GStreamer, ffmpeg, gcc)\n',
      );
      process.exit(0);
    } else if (a.startsWith('--')) throw new Error(`unknown option ${a}`);
    else opts.suites.push(a);
  }
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1) throw new Error('--rounds takes a whole number ≥ 1');
  if (!(opts.targetS > 0)) throw new Error('--target-s takes a positive number of seconds');
  return opts;
}

/** Finds compiled suites: packages/<pkg>/dist/bench/<suite>.bench.js. */
function discover() {
  const found = new Map();
  for (const base of ['packages', '.']) {
    const dir = join(root, base);
    for (const pkg of readdirSync(dir)) {
      const benchDir = join(dir, pkg, 'dist', 'bench');
      if (!existsSync(benchDir)) continue;
      for (const f of readdirSync(benchDir)) {
        if (f.endsWith('.bench.js')) found.set(f.slice(0, -'.bench.js'.length), join(benchDir, f));
      }
    }
  }
  return found;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const fmt = (x) => {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  return x.toPrecision(2);
};

async function calibrate(c, targetS, log) {
  if (c.fixedIterations) return c.fixedIterations;
  let n = 1;
  for (let tries = 0; tries < 30; tries++) {
    const r = await c.run(n);
    if (r.seconds >= targetS * 0.25 || n >= 1e9) {
      return Math.max(1, Math.round((n * targetS) / Math.max(r.seconds, 1e-9)));
    }
    const grow = r.seconds > 0 ? Math.min(10, Math.max(2, (targetS * 0.3) / r.seconds)) : 10;
    n = Math.ceil(n * grow);
  }
  log(`  calibration of ${c.name} did not converge; using ${n}`);
  return n;
}

function envInfo() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    kernel: os.release(),
    loadavg: os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' '),
    date: new Date().toISOString(),
  };
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const available = discover();
  if (opts.list) {
    for (const [name, file] of available) process.stdout.write(`${name}\t${file}\n`);
    return;
  }
  const names = opts.suites.length ? opts.suites : [...available.keys()].sort();
  const unknown = names.filter((n) => !available.has(n));
  if (unknown.length) {
    process.stderr.write(
      `unknown suite(s): ${unknown.join(', ')}; available: ${[...available.keys()].sort().join(', ') || 'none (build first)'}\n`,
    );
    process.exit(2);
  }
  const log = (s) => process.stderr.write(`${s}\n`);
  const env = envInfo();
  log(
    `bench: ${names.join(', ')} · ${opts.rounds} rounds · target ${opts.targetS}s · ${env.cpu} ×${env.cores} · node ${env.node}`,
  );

  const all = [];
  for (const suiteName of names) {
    const mod = await import(pathToFileURL(available.get(suiteName)).href);
    const suite = mod.default;
    if (!suite || typeof suite.cases !== 'function')
      throw new Error(`${suiteName}: default export is not a BenchSuite`);
    // Suites may read the run's settings (a VM-backed suite runs its rounds itself, once, and needs the count;
    // `named` tells it whether it was asked for by name or only swept up by a bare `pnpm bench`).
    let cases = await suite.cases({
      rounds: opts.rounds,
      targetS: opts.targetS,
      named: opts.suites.includes(suiteName),
    });
    if (opts.only)
      cases = cases.filter((c) => c.peer || opts.only.test(c.name) || opts.only.test(c.group ?? ''));
    for (const c of cases)
      all.push({ suite: suite.name ?? suiteName, c, values: [], extras: [], iterations: 0, skipped: null });
  }

  for (const e of all) {
    try {
      await e.c.setup?.();
      e.iterations = await calibrate(e.c, opts.targetS, log);
      log(`  calibrated ${e.suite} / ${e.c.name}: N=${e.iterations}`);
    } catch (err) {
      e.skipped = err instanceof Error ? err.message : String(err);
      log(`  skipped ${e.suite} / ${e.c.name}: ${e.skipped}`);
    }
  }
  for (let round = 0; round < opts.rounds; round++) {
    log(`  round ${round + 1}/${opts.rounds}`);
    for (const e of all) {
      if (e.skipped) continue;
      try {
        const r = await e.c.run(e.iterations);
        e.values.push(r.value);
        e.extras.push(r.extra ?? {});
      } catch (err) {
        e.skipped = err instanceof Error ? err.message : String(err);
        log(`  ${e.suite} / ${e.c.name} failed in round ${round + 1}: ${e.skipped}`);
      }
    }
  }
  for (const e of all) {
    try {
      await e.c.teardown?.();
    } catch (err) {
      log(`  teardown of ${e.c.name} failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  const groupKey = (e) => `${e.suite}\u0000${e.c.group ?? e.c.name}`;
  const rows = [];
  for (const e of all) {
    if (e.c.peer) continue;
    const peers = all.filter((p) => p.c.peer && !p.skipped && groupKey(p) === groupKey(e));
    const row = {
      suite: e.suite,
      case: e.c.name,
      group: e.c.group ?? e.c.name,
      value: e.values.length ? median(e.values) : null,
      min: e.values.length ? Math.min(...e.values) : null,
      max: e.values.length ? Math.max(...e.values) : null,
      unit: e.c.unit,
      better: e.c.better,
      rounds: e.values.length,
      iterations: e.iterations,
      peers: {},
      ratios: {},
      extra: e.extras.at(-1) ?? {},
      showExtra: e.c.showExtra === true,
      ...(e.skipped ? { skipped: e.skipped } : {}),
    };
    for (const p of peers) {
      row.peers[p.c.name] = median(p.values);
      const n = Math.min(p.values.length, e.values.length);
      const perRound = [];
      for (let i = 0; i < n; i++) {
        perRound.push(e.c.better === 'lower' ? p.values[i] / e.values[i] : e.values[i] / p.values[i]);
      }
      if (perRound.length)
        row.ratios[p.c.name] = {
          median: median(perRound),
          min: Math.min(...perRound),
          max: Math.max(...perRound),
        };
    }
    rows.push(row);
  }
  const peerRows = all
    .filter((e) => e.c.peer)
    .map((e) => ({
      suite: e.suite,
      case: e.c.name,
      group: e.c.group ?? e.c.name,
      peer: true,
      value: e.values.length ? median(e.values) : null,
      min: e.values.length ? Math.min(...e.values) : null,
      max: e.values.length ? Math.max(...e.values) : null,
      unit: e.c.unit,
      better: e.c.better,
      extra: e.extras.at(-1) ?? {},
      showExtra: e.c.showExtra === true,
      ...(e.skipped ? { skipped: e.skipped } : {}),
    }));

  const stamp = env.date.replace(/[-:]/g, '').replace(/\..*/, 'Z');
  const outDir = join(root, 'bench-results', stamp);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(
    join(outDir, 'raw.jsonl'),
    [...rows, ...peerRows].map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
  writeFileSync(join(outDir, 'env.json'), JSON.stringify(env, null, 2) + '\n');

  if (opts.json) {
    for (const r of rows) {
      const out = {
        suite: r.suite,
        case: r.case,
        value: r.value,
        unit: r.unit,
        better: r.better,
        peers: r.peers,
      };
      out.min = r.min;
      out.max = r.max;
      out.ratios = Object.fromEntries(Object.entries(r.ratios).map(([k, v]) => [k, v.median]));
      if (r.skipped) out.skipped = r.skipped;
      if (Object.keys(r.extra).length) out.extra = r.extra;
      process.stdout.write(JSON.stringify(out) + '\n');
    }
    return;
  }
  // A case with `showExtra: true` also prints its last round's `extra` (e.g. drop counts) in the table.
  const extraText = (r) =>
    r.showExtra && Object.keys(r.extra).length
      ? Object.entries(r.extra)
          .map(([k, v]) => `${k} ${typeof v === 'number' && !Number.isInteger(v) ? fmt(v) : v}`)
          .join(', ')
      : '';
  const lines = [];
  lines.push(`| suite | case | median | min–max | unit | vs peers (ratio, >1 = better; min–max) |`);
  lines.push(`|---|---|---:|---:|---|---|`);
  for (const r of rows) {
    const vs = Object.entries(r.ratios)
      .map(([k, v]) => `${k} ${fmt(r.peers[k])}: **${fmt(v.median)}×** (${fmt(v.min)}–${fmt(v.max)})`)
      .join('; ');
    lines.push(
      `| ${r.suite} | ${r.case} | **${r.value === null ? 'n/a' : fmt(r.value)}** | ${r.min === null ? '' : `${fmt(r.min)}–${fmt(r.max)}`} | ${r.unit} | ${r.skipped ? `skipped: ${r.skipped}` : [vs, extraText(r)].filter(Boolean).join('; ')} |`,
    );
  }
  for (const p of peerRows) {
    lines.push(
      `| ${p.suite} | _peer_ ${p.case} [${p.group}] | ${p.value === null ? 'n/a' : fmt(p.value)} | ${p.min === null ? '' : `${fmt(p.min)}–${fmt(p.max)}`} | ${p.unit} | ${p.skipped ? `skipped: ${p.skipped}` : extraText(p)} |`,
    );
  }
  const table = lines.join('\n') + '\n';
  writeFileSync(join(outDir, 'table.md'), table);
  process.stdout.write(table);
  log(`results in ${outDir}`);
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
