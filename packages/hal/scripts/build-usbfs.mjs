// Install step of @ksemu/hal: builds the Linux usbfs addon with node-gyp; never fails the install (iso then reports Unsupported).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const addonDir = resolve(here, '../native/usbfs');
const note = (msg) => process.stdout.write(`@ksemu/hal: ${msg}\n`);

if (process.platform !== 'linux') {
  note(
    `usbfs addon skipped on ${process.platform}: isochronous USB reports Unsupported; bulk works through node-usb.`,
  );
  process.exit(0);
}

// node-gyp ships with npm; package managers export its path while running lifecycle scripts.
const candidates = [
  process.env.npm_config_node_gyp,
  join(dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
  join(dirname(process.execPath), 'node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'),
].filter((p) => typeof p === 'string' && p.length > 0);
const nodeGyp = candidates.find((p) => existsSync(p));
if (nodeGyp === undefined) {
  note('node-gyp not found (it ships with npm); usbfs addon not built: isochronous USB reports Unsupported.');
  process.exit(0);
}

// Use the headers that come with this node binary when present, so no header download is needed.
const nodeDir = resolve(dirname(process.execPath), '..');
const args = [nodeGyp, 'rebuild', '--silent'];
if (existsSync(join(nodeDir, 'include/node/common.gypi'))) args.push(`--nodedir=${nodeDir}`);

const r = spawnSync(process.execPath, args, {
  cwd: addonDir,
  stdio: ['ignore', 'inherit', 'inherit'],
  env: process.env,
});
if (r.status === 0 && existsSync(join(addonDir, 'build/Release/usbfs.node'))) {
  note('usbfs addon built (isochronous and deep bulk queues available on Linux).');
} else {
  note(
    `usbfs addon build failed (exit ${String(r.status)}); isochronous USB reports Unsupported, bulk uses node-usb.`,
  );
}
process.exit(0);
