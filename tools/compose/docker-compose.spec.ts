import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
// Repo-wide checks read each service's config schema directly; nothing ships from tools/.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { GatewayConfigSchema } from '../../apps/gateway/src/config';

const ROOT = join(__dirname, '../..');

/** Environment names each service's config schema accepts, by compose service name. */
const ACCEPTED: Record<string, Set<string>> = {
  gateway: new Set([...Object.keys(GatewayConfigSchema), 'NODE_ENV', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME']),
};

type ComposeService = {
  image?: string;
  build?: { context: string; dockerfile: string };
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
};

describe('docker-compose.yml (validated structurally; no Docker engine here)', () => {
  const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService> };

  it('every service has an image or a build whose Dockerfile exists, and a health check', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      expect(svc.image ?? svc.build).toBeDefined();
      if (svc.build) expect(existsSync(join(ROOT, svc.build.context, svc.build.dockerfile))).toBe(true);
      expect(svc.healthcheck?.test?.length).toBeGreaterThan(0);
      void name;
    }
  });

  it('published host ports are unique', () => {
    const hostPorts = Object.values(compose.services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':').slice(-2, -1)[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  it('environment names are ones the service config accepts (a typo would be silently ignored)', () => {
    for (const [name, svc] of Object.entries(compose.services)) {
      const accepted = ACCEPTED[name];
      if (!accepted) continue;
      for (const key of Object.keys(svc.environment ?? {})) expect({ service: name, key, accepted: accepted.has(key) }).toEqual({ service: name, key, accepted: true });
    }
  });
});
