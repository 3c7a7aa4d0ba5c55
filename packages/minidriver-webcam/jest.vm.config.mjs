// Jest config of the VM tier (usbvm guest, `usbvm/guest/ksemu-tier.sh`): only this package's compiled *.vm.test.js, in band, cache in the guest's /tmp.
// The default config (jest.config.mjs) ignores *.vm.test.js, so `pnpm test` never runs them.
export default {
  rootDir: '.',
  roots: ['<rootDir>/dist'],
  testMatch: ['**/*.vm.test.js'],
  testPathIgnorePatterns: ['/node_modules/'],
  testEnvironment: 'node',
  transform: {},
  // The guest's root is the host's, read-only under a tmpfs overlay: keep jest's cache out of it.
  cacheDirectory: '/tmp/ksemu-jest-vm',
  maxWorkers: 1,
  // A real camera under emulation: the 89-frame capture alone takes seconds.
  testTimeout: 120000,
};
