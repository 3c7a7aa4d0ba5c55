// Layering rules from ARCHITECTURE.md, enforced in CI: a violation fails the build.
module.exports = {
  forbidden: [
    {
      name: 'ks-core-is-standalone',
      comment: 'ks-core imports no other package of ours (its benchmarks use the bench-kit types)',
      severity: 'error',
      from: { path: '^packages/ks-core/' },
      to: { path: '^packages/(?!ks-core/|bench-kit/)|@ksemu/(?!ks-core|bench-kit)' },
    },
    {
      name: 'hal-is-standalone',
      comment: 'hal imports no other package of ours (its benchmarks use the bench-kit types)',
      severity: 'error',
      from: { path: '^packages/hal/' },
      to: { path: '^packages/(?!hal/|bench-kit/)|@ksemu/(?!hal|bench-kit)' },
    },
    {
      name: 'bench-kit-only-in-benchmarks',
      comment: 'bench-kit is the contract of `pnpm bench`: only src/bench files use it',
      severity: 'error',
      from: { pathNot: '^packages/[^/]+/src/bench/|^packages/bench-kit/' },
      to: { path: '^packages/bench-kit/|@ksemu/bench-kit' },
    },
    {
      name: 'minidrivers-join-only-core-and-hal',
      severity: 'error',
      from: { path: '^packages/minidriver-' },
      to: { path: '^packages/(cli|usbip-export)/|^fixtures/' },
    },
    {
      name: 'only-node-usb-adapter-imports-usb',
      severity: 'error',
      from: { pathNot: '^packages/hal/src/usb/node-usb-transport\\.ts$' },
      to: { path: '(^|/)node_modules/usb/' },
    },
    {
      name: 'only-fixture-tools-import-sharp',
      severity: 'error',
      from: { pathNot: '^fixtures/' },
      to: { path: '(^|/)node_modules/sharp/' },
    },
    {
      name: 'no-deep-imports-into-packages',
      comment: 'packages export only . and ./testing; reach them through the package name',
      severity: 'error',
      from: { path: '^packages/([^/]+)/' },
      to: { path: '^packages/[^/]+/src/', pathNot: '^packages/$1/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules', '(^|/)dist/'] },
    tsConfig: { fileName: 'tsconfig.base.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'default', 'node'],
      extensions: ['.ts', '.js'],
    },
  },
};
