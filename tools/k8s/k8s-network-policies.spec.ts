/**
 * NetworkPolicies of the rendered overlays, evaluated the way Kubernetes does (policies are
 * additive; a pod selected by any policy of a type gets only what some policy allows):
 *
 * - every service pod is selected by the namespace's default-deny (ingress and egress) and by
 *   one allow policy;
 * - in: the gateway's HTTP port only from the ingress controller's namespace; every metrics port
 *   only from Prometheus pods in the monitoring namespace; nothing else, from anywhere;
 * - out: DNS to kube-system's kube-dns, then per service exactly its ports: Redis 6379, MongoDB
 *   27017, S3 / LLM providers 443.
 *
 * Mutated copies show the evaluation catches an open rule, a wrong port and a missing deny.
 */
import { type Labels, type Manifest, OVERLAYS, type OverlayName, podLabels, podSpecOf, renderOverlay, selects, SERVICES } from './k8s-test-support';

type Service = (typeof SERVICES)[number];

const INGRESS_CONTROLLER_NS = 'ingress-nginx';
const MONITORING_NS = 'monitoring';
const PROMETHEUS_POD: Labels = { 'app.kubernetes.io/name': 'prometheus' };
const NS_LABEL = 'kubernetes.io/metadata.name';

/** What may reach each service, as "<peer> -> <container port name>". */
const EXPECTED_INGRESS: Record<Service, string[]> = {
  gateway: ['ingress-controller -> http', 'prometheus -> metrics'],
  'change-reader': ['prometheus -> metrics'],
  'batch-writer': ['prometheus -> metrics'],
  's3-uploader': ['prometheus -> metrics'],
};

const DNS = ['kube-dns UDP/53', 'kube-dns TCP/53'];
/** Where each service may connect, as "<destination> <protocol>/<port>"; "any" = any address on that port. */
const EXPECTED_EGRESS: Record<Service, string[]> = {
  // Redis: limits and the agent run queue; PostgreSQL: the agent API's store.
  gateway: [...DNS, 'any TCP/443', 'any TCP/6379', 'any TCP/5432'],
  'change-reader': [...DNS, 'any TCP/6379', 'any TCP/27017'],
  'batch-writer': [...DNS, 'any TCP/6379'],
  's3-uploader': [...DNS, 'any TCP/6379', 'any TCP/443'],
};

interface Peer {
  namespaceSelector?: { matchLabels?: Labels; matchExpressions?: unknown[] };
  podSelector?: { matchLabels?: Labels; matchExpressions?: unknown[] };
  ipBlock?: unknown;
}
interface PolicyPort {
  protocol?: string;
  port?: number | string;
  endPort?: number;
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: PolicyPort[];
}

const same = (a: Labels | undefined, b: Labels): boolean => JSON.stringify(Object.entries(a ?? {}).sort()) === JSON.stringify(Object.entries(b).sort());

/** Names a peer if it is one of the sources / destinations we allow, else describes it. */
function peerName(peer: Peer): string {
  if (peer.ipBlock || peer.namespaceSelector?.matchExpressions?.length || peer.podSelector?.matchExpressions?.length) return `other ${JSON.stringify(peer)}`;
  const ns = peer.namespaceSelector?.matchLabels;
  const pods = peer.podSelector?.matchLabels;
  // A podSelector without a namespaceSelector means pods of the policy's own namespace.
  if (!peer.namespaceSelector) return `other ${JSON.stringify(peer)}`;
  if (same(ns, { [NS_LABEL]: INGRESS_CONTROLLER_NS })) return 'ingress-controller';
  if (same(ns, { [NS_LABEL]: MONITORING_NS }) && same(pods, PROMETHEUS_POD)) return 'prometheus';
  if (same(ns, { [NS_LABEL]: 'kube-system' }) && same(pods, { 'k8s-app': 'kube-dns' })) return 'kube-dns';
  return `other ${JSON.stringify(peer)}`;
}

/** A NetworkPolicy port as the container port name it opens on this pod (ingress). */
function containerPortName(pod: any, port: PolicyPort): string {
  if (port.endPort !== undefined || port.port === undefined) return `range ${JSON.stringify(port)}`;
  const ports = (pod.containers ?? []).flatMap((c: any) => c.ports ?? []) as Array<{ name?: string; containerPort: number; protocol?: string }>;
  const hit = ports.find((p) => (typeof port.port === 'number' ? p.containerPort === port.port : p.name === port.port) && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP'));
  return hit?.name ?? `unknown port ${String(port.port)}`;
}

interface Evaluation {
  /** default-deny policies selecting the pod (no rules, both policy types) */
  denies: string[];
  /** other policies selecting the pod */
  allows: string[];
  ingress: string[];
  egress: string[];
}

/** What the NetworkPolicies among `docs` let in and out of the pods of Deployment `service`. */
function evaluatePolicies(docs: Manifest[], service: string): Evaluation {
  const deployment = docs.find((d) => d.kind === 'Deployment' && d.metadata?.name === service);
  if (!deployment) throw new Error(`no Deployment/${service}`);
  const labels = podLabels(deployment);
  const pod = podSpecOf(deployment);
  const policies = docs.filter((d) => d.kind === 'NetworkPolicy' && d.metadata?.namespace === deployment.metadata?.namespace && selects(d.spec?.podSelector, labels, true));
  const result: Evaluation = { denies: [], allows: [], ingress: [], egress: [] };
  const add = (list: string[], entry: string) => list.includes(entry) || list.push(entry);
  for (const p of policies) {
    const types: string[] = p.spec.policyTypes ?? ['Ingress'];
    const ingress: Rule[] = p.spec.ingress ?? [];
    const egress: Rule[] = p.spec.egress ?? [];
    if (ingress.length === 0 && egress.length === 0 && types.includes('Ingress') && types.includes('Egress')) result.denies.push(p.metadata?.name ?? '');
    else result.allows.push(p.metadata?.name ?? '');
    if (types.includes('Ingress')) {
      for (const rule of ingress) {
        // An empty or missing `from` / `ports` means every source / every port.
        const peers = rule.from?.length ? rule.from.map(peerName) : ['anywhere'];
        const ports = rule.ports?.length ? rule.ports.map((port) => containerPortName(pod, port)) : ['every port'];
        for (const peer of peers) for (const port of ports) add(result.ingress, `${peer} -> ${port}`);
      }
    } else if (ingress.length) add(result.ingress, 'rules ignored: policyTypes lacks Ingress');
    if (types.includes('Egress')) {
      for (const rule of egress) {
        const peers = rule.to?.length ? rule.to.map(peerName) : ['any'];
        const ports = rule.ports?.length ? rule.ports.map((port) => (port.endPort !== undefined ? `range ${JSON.stringify(port)}` : `${port.protocol ?? 'TCP'}/${String(port.port ?? 'every port')}`)) : ['every port'];
        for (const peer of peers) for (const port of ports) add(result.egress, `${peer} ${port}`);
      }
    } else if (egress.length) add(result.egress, 'rules ignored: policyTypes lacks Egress');
  }
  return result;
}

const cases = OVERLAYS.flatMap((overlay: OverlayName) => SERVICES.map((service) => ({ overlay, service, title: `overlays/${overlay} ${service}` })));

describe('NetworkPolicies', () => {
  test.each(cases)('$title: selected by a default-deny and one allow policy', ({ overlay, service }) => {
    const e = evaluatePolicies(renderOverlay(overlay), service);
    expect(e.denies).toEqual(['default-deny']);
    expect(e.allows).toEqual([service]);
  });

  test.each(cases)('$title: ingress only from the expected peers to the expected ports', ({ overlay, service }) => {
    expect(evaluatePolicies(renderOverlay(overlay), service).ingress.sort()).toEqual([...EXPECTED_INGRESS[service]].sort());
  });

  test.each(cases)('$title: egress only to DNS and its own stores', ({ overlay, service }) => {
    expect(evaluatePolicies(renderOverlay(overlay), service).egress.sort()).toEqual([...EXPECTED_EGRESS[service]].sort());
  });

  test('metrics ports are reachable only from Prometheus, HTTP only from the ingress controller', () => {
    for (const overlay of OVERLAYS) {
      for (const service of SERVICES) {
        for (const entry of evaluatePolicies(renderOverlay(overlay), service).ingress) {
          expect(entry).toMatch(/^(prometheus -> metrics|ingress-controller -> http)$/);
        }
      }
    }
  });

  describe('the evaluation catches weakened policies (mutated copies)', () => {
    const mutated = (mutate: (docs: Manifest[]) => void): Manifest[] => {
      const docs = structuredClone(renderOverlay('production'));
      mutate(docs);
      return docs;
    };
    const policy = (docs: Manifest[], name: string): any => docs.find((d) => d.kind === 'NetworkPolicy' && d.metadata?.name === name);

    test('the unmutated copy passes (control)', () => {
      const e = evaluatePolicies(mutated(() => undefined), 'gateway');
      expect(e.ingress.sort()).toEqual([...EXPECTED_INGRESS.gateway].sort());
    });

    test('a gateway ingress rule without `from` opens the port to everyone', () => {
      const docs = mutated((d) => delete policy(d, 'gateway').spec.ingress[0].from);
      expect(evaluatePolicies(docs, 'gateway').ingress).toContain('anywhere -> http');
    });

    test('the ingress controller allowed onto the metrics port', () => {
      const docs = mutated((d) => policy(d, 'gateway').spec.ingress[0].ports.push({ protocol: 'TCP', port: 9090 }));
      expect(evaluatePolicies(docs, 'gateway').ingress).toContain('ingress-controller -> metrics');
    });

    test('Prometheus selected by namespace only (any pod there)', () => {
      const docs = mutated((d) => delete policy(d, 'batch-writer').spec.ingress[0].from[0].podSelector);
      expect(evaluatePolicies(docs, 'batch-writer').ingress.join()).toMatch(/^other .* -> metrics$/);
    });

    test('an egress rule without ports', () => {
      const docs = mutated((d) => delete policy(d, 'batch-writer').spec.egress[1].ports);
      expect(evaluatePolicies(docs, 'batch-writer').egress).toContain('any every port');
    });

    test('DNS opened to every namespace', () => {
      const docs = mutated((d) => (policy(d, 'change-reader').spec.egress[0].to[0].namespaceSelector = {}));
      expect(evaluatePolicies(docs, 'change-reader').egress.filter((e) => e.startsWith('other'))).toHaveLength(2);
    });

    test('the default-deny removed', () => {
      const docs = mutated((d) => d.splice(d.indexOf(policy(d, 'default-deny')), 1));
      expect(evaluatePolicies(docs, 's3-uploader').denies).toEqual([]);
    });

    test('an allow policy that lost its Egress policy type', () => {
      const docs = mutated((d) => (policy(d, 's3-uploader').spec.policyTypes = ['Ingress']));
      expect(evaluatePolicies(docs, 's3-uploader').egress).toContain('rules ignored: policyTypes lacks Egress');
    });
  });
});
