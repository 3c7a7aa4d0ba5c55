// Jest setup for every test file: property tests run on a fixed fast-check seed in CI so a run is
// repeatable; locally they explore a new seed each run (FC_SEED=<n> replays one).
import fc from 'fast-check';

const fixed = process.env.FC_SEED ?? (process.env.CI ? '20261124' : undefined);
if (fixed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(fixed) });
