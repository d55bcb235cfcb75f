const preset = require('./jest.preset');

/** One jest project per app/lib (select with --selectProjects NAME), plus repo-wide checks under tools/. */
module.exports = {
  projects: [
    preset('libs/config', 'config'),
    preset('libs/metrics', 'metrics'),
    preset('libs/telemetry', 'telemetry'),
    preset('libs/service', 'service'),
    preset('libs/testing', 'testing'),
    preset('libs/queue', 'queue'),
    preset('libs/checkpoint', 'checkpoint'),
    preset('libs/lake', 'lake'),
    preset('apps/gateway', 'gateway'),
    preset('apps/change-reader', 'change-reader'),
    preset('tools', 'tools'),
  ],
};
