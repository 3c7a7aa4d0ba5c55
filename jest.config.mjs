// Jest runs the compiled ESM output (dist/), so Workers load real .js files exactly as users do.
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/fixtures'],
  testMatch: ['**/dist/**/*.test.js'],
  testPathIgnorePatterns: ['/node_modules/', '\\.hw\\.test\\.js$', '\\.vm\\.test\\.js$'],
  transform: {},
  setupFiles: ['<rootDir>/scripts/jest-setup.mjs'],
  maxWorkers: 2,
  testTimeout: 30000,
  // Keeps CI honest about leaked handles (timers, sockets, workers) instead of hanging.
  forceExit: false,
  detectOpenHandles: false,
};
