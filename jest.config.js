const preset = require('./jest.preset');

/** One jest project per app/lib (select with --selectProjects NAME), plus repo-wide checks under tools/. */
module.exports = {
  // Shared, noisy machines: a generous per-test bound (a global option: projects cannot set it).
  testTimeout: 30_000,
  projects: [
    preset('libs/config', 'config'),
    preset('libs/metrics', 'metrics'),
    preset('libs/telemetry', 'telemetry'),
    preset('libs/service', 'service'),
    preset('libs/testing', 'testing'),
    preset('libs/queue', 'queue'),
    preset('libs/redis-scripts', 'redis-scripts'),
    preset('libs/checkpoint', 'checkpoint'),
    preset('libs/lake', 'lake'),
    preset('apps/gateway', 'gateway'),
    preset('apps/change-reader', 'change-reader'),
    preset('apps/batch-writer', 'batch-writer'),
    preset('apps/s3-uploader', 's3-uploader'),
    preset('tools', 'tools'),
  ],
};
