import { describe, expect, it } from 'vitest';
import { planDesign } from '../../lab/designs/registry.ts';
import {
  compactPorts,
  plannedTopology,
  renderDot,
  renderMermaid,
  topologyGraph,
  withLivePodman,
  type TopologyFacts,
} from '../../lab/report/graph.ts';
import { renderMarkdown } from '../../lab/report/markdown.ts';
import { defaultConfig } from '../../lab/topology/config.ts';
import { planLab } from '../../lab/topology/plan.ts';
import { fixtureReport } from './fixtures/report-fixture.ts';
import { expectGolden } from './helpers/golden.ts';

function fixturePlan() {
  const config = defaultConfig();
  config.lab.name = 'golden';
  const plan = planLab(config);
  const design = planDesign(config, { etc: '/etc', podmanSocket: '/run/podman.sock', image: 'localhost/v6lab-node:0123456789ab', networkConfigDir: '/etc/containers/networks' });
  return { plan, design };
}

/** web-arm's podman as its API reports it on a running lab. */
const LIVE_PODMAN: TopologyFacts['podman'] = {
  networks: [
    { name: 'podman', bridge: 'podman0', subnets: ['10.88.0.0/16'] },
    { name: 'v6egress', bridge: 'podman1', subnets: ['10.89.0.0/24', 'fdaa:bbcc:ddee::/64'] },
  ],
  containers: [
    { name: 'v6probe', networks: [{ name: 'v6egress', addresses: ['10.89.0.18', 'fdaa:bbcc:ddee::12'] }], published: [] },
    { name: 'collabora', networks: [{ name: 'podman', addresses: ['10.88.0.30'] }], published: ['9980/tcp'] },
    { name: 'rustdesk-server', networks: [{ name: 'podman', addresses: ['10.88.0.31'] }], published: ['21115-21119/tcp', '21116/udp'] },
  ],
};

describe('compactPorts', () => {
  it('collapses consecutive ports per protocol into ranges', () => {
    const ports = [21117, 21115, 21116, 21119, 21118].map((port) => ({ port, protocol: 'tcp' }));
    expect(compactPorts([...ports, { port: 21116, protocol: 'udp' }])).toEqual(['21115-21119/tcp', '21116/udp']);
    expect(compactPorts([{ port: 80, protocol: 'tcp' }, { port: 443, protocol: 'tcp' }, { port: 80, protocol: 'tcp' }])).toEqual(['80/tcp', '443/tcp']);
    expect(compactPorts([])).toEqual([]);
  });
});

describe('plannedTopology', () => {
  it('takes every address from the plan and the design, and knows no container addresses', () => {
    const { plan, design } = fixturePlan();
    const facts = plannedTopology(plan, design);
    expect(facts.source).toBe('planned');
    expect(facts.webArm.addresses).toEqual(['2a01:4f8:c012:43b::1/64', '203.0.113.10/32']);
    expect(facts.upstream.linkAddresses).toEqual(['fe80::1/64', '172.31.1.1/32']);
    expect(facts.internet.find((h) => h.node === 'v6only-target')).toEqual({
      node: 'v6only-target',
      dnsName: 'v6only.example',
      ifname: 'eth0',
      addresses: ['2001:db8:ffff::80'],
    });
    expect(facts.podman.networks.map((n) => [n.name, n.subnets])).toEqual([
      ['podman', ['10.88.0.0/16']],
      ['v6egress', ['10.89.0.0/24', 'fdaa:bbcc:ddee::/64']],
    ]);
    expect(facts.podman.containers.map((c) => [c.name, c.networks.map((n) => n.name), c.published])).toEqual([
      ['collabora', ['podman'], ['9980/tcp']],
      ['rustdesk-server', ['podman'], ['21115-21119/tcp', '21116/udp']],
      ['v6probe', ['v6egress'], []],
    ]);
    expect(facts.podman.containers.every((c) => c.networks.every((n) => n.addresses.length === 0))).toBe(true);
  });

  it('without a design shows only the default network and the live containers', () => {
    const { plan } = fixturePlan();
    const facts = plannedTopology(plan);
    expect(facts.podman.networks.map((n) => n.name)).toEqual(['podman']);
    expect(facts.podman.containers.map((c) => c.name)).toEqual(['collabora', 'rustdesk-server']);
  });
});

describe('graph renderers', () => {
  const { plan, design } = fixturePlan();
  const live = withLivePodman(plannedTopology(plan, design), LIVE_PODMAN);

  it('renders the running topology as Mermaid (golden)', () => {
    expectGolden('graph.live.mmd', renderMermaid(topologyGraph(live)));
  });

  it('renders the running topology as Graphviz DOT (golden)', () => {
    expectGolden('graph.live.dot', renderDot(topologyGraph(live)));
  });

  it('renders the planned topology as Mermaid (golden)', () => {
    expectGolden('graph.planned.mmd', renderMermaid(topologyGraph(plannedTopology(plan, design))));
  });

  it('connects every container to each of its networks, labelled with its addresses there', () => {
    const graph = topologyGraph(live);
    expect(graph.edges).toContainEqual({ from: 'net_v6egress', to: 'ctr_v6probe', label: '10.89.0.18, fdaa:bbcc:ddee::12' });
    expect(graph.edges).toContainEqual({ from: 'node_web_arm', to: 'node_upstream', label: 'enp1s0 ↔ web-arm' });
    const ids = new Set(graph.nodes.map((n) => n.id));
    for (const e of graph.edges) expect(ids.has(e.from) && ids.has(e.to), `${e.from} -- ${e.to}`).toBe(true);
  });

  it('escapes quotes, angle brackets and backslashes in names', () => {
    const odd = withLivePodman(live, {
      networks: [{ name: 'net"<x>', subnets: ['10.1.0.0/24'] }],
      containers: [{ name: 'a\\b"c', networks: [{ name: 'net"<x>', addresses: ['10.1.0.2'] }], published: [] }],
    });
    const mermaid = renderMermaid(topologyGraph(odd));
    expect(mermaid).toContain('net#quot;#lt;x#gt;');
    expect(mermaid).not.toMatch(/net"</);
    const dot = renderDot(topologyGraph(odd));
    expect(dot).toContain('label="a\\\\b\\"c"');
    // Identifiers stay plain.
    expect(dot).toContain('ctr_a_b_c [');
  });

  it('goes into the Markdown report as a mermaid block', () => {
    const md = renderMarkdown(fixtureReport, { topologyMermaid: renderMermaid(topologyGraph(live)) });
    expect(md).toContain('## Topology\n\n```mermaid\nflowchart LR\n');
    expect(md.indexOf('## Topology')).toBeLessThan(md.indexOf('## Evidence'));
  });
});
