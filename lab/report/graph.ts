/**
 * The lab's topology as a graph with addresses, rendered as Mermaid (for Markdown reports and
 * CI job summaries) or Graphviz DOT. Pure: the facts come from the plan, and from the running
 * lab when there is one (web-arm's podman networks and containers, see lab/inspect/topology.ts).
 */
import type { DesignPlan } from '../designs/design.ts';
import type { LabPlan } from '../topology/plan.ts';

export interface PodmanNetworkFacts {
  name: string;
  /** The bridge interface in web-arm (podman0, …), when known. */
  bridge?: string;
  subnets: string[];
}

export interface PodmanContainerFacts {
  name: string;
  /** Networks it is attached to, with its addresses on each (empty when not known). */
  networks: Array<{ name: string; addresses: string[] }>;
  /** Published ports, e.g. "9980/tcp". */
  published: string[];
}

export interface TopologyFacts {
  lab: string;
  /** 'live': web-arm's podman was asked; 'planned': from the config and design only. */
  source: 'live' | 'planned';
  webArm: { node: string; uplink: string; addresses: string[] };
  upstream: { node: string; port: string; bridge: string; linkAddresses: string[]; internetAddresses: string[] };
  internet: Array<{ node: string; dnsName?: string; ifname: string; addresses: string[] }>;
  podman: { networks: PodmanNetworkFacts[]; containers: PodmanContainerFacts[] };
}

/** The topology as the plan (and the applied design, if any) intends it; no runtime addresses. */
export function plannedTopology(plan: LabPlan, design?: DesignPlan): TopologyFacts {
  const c = plan.config;
  const names: Record<string, string | undefined> = {
    'v6only-target': c.internet.v6OnlyTarget.name,
    'v4only-target': c.internet.v4OnlyTarget.name,
    mx: c.internet.mx.name,
  };
  const networks: PodmanNetworkFacts[] = [
    { name: 'podman', subnets: [c.webArm.podman.defaultNetworkSubnet] },
    ...(design?.networks ?? []).map((n) => ({ name: n.name, subnets: [...n.subnets] })),
  ];
  const containers: PodmanContainerFacts[] = [
    ...c.webArm.containers.map((s) => ({
      name: s.name,
      networks: [{ name: 'podman', addresses: [] }],
      published: compactPorts(s.publish.map((p) => ({ port: p.hostPort, protocol: p.protocol }))),
    })),
    ...(design ? [{ name: design.probe.name, networks: [{ name: design.probe.network, addresses: [] }], published: [] }] : []),
  ];
  return {
    lab: plan.name,
    source: 'planned',
    webArm: {
      node: plan.webArm.node,
      uplink: c.webArm.uplink,
      addresses: [`${c.webArm.ipv6.address}/${c.webArm.ipv6.prefixLength}`, `${c.webArm.ipv4.address}/32`],
    },
    upstream: {
      node: plan.upstream.node,
      port: plan.upstream.toWebArmIf,
      bridge: plan.upstream.bridge,
      linkAddresses: [`${c.upstream.linkLocal}/64`, `${c.upstream.ipv4Gateway}/32`],
      internetAddresses: [c.upstream.internetIpv6, c.upstream.internetIpv4],
    },
    internet: plan.internet.map((h) => ({
      node: h.node,
      dnsName: names[h.node],
      ifname: h.ifname,
      addresses: [h.ipv6, h.ipv4].filter((a): a is string => Boolean(a)),
    })),
    podman: { networks, containers: sortByName(containers) },
  };
}

/** The planned topology with web-arm's podman as it runs. */
export function withLivePodman(facts: TopologyFacts, podman: TopologyFacts['podman']): TopologyFacts {
  return { ...facts, source: 'live', podman: { networks: [...podman.networks], containers: sortByName(podman.containers) } };
}

function sortByName<T extends { name: string }>(items: T[]): T[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

/** "21115-21119/tcp, 21116/udp" style: consecutive ports of one protocol collapse to a range. */
export function compactPorts(ports: Array<{ port: number; protocol: string }>): string[] {
  const out: string[] = [];
  const byProto = new Map<string, number[]>();
  for (const p of ports) byProto.set(p.protocol, [...(byProto.get(p.protocol) ?? []), p.port]);
  for (const [protocol, list] of [...byProto].sort(([a], [b]) => a.localeCompare(b))) {
    const sorted = [...new Set(list)].sort((a, b) => a - b);
    let start = sorted[0]!;
    let prev = start;
    for (const port of [...sorted.slice(1), Number.NaN]) {
      if (port === prev + 1) {
        prev = port;
        continue;
      }
      out.push(`${start === prev ? start : `${start}-${prev}`}/${protocol}`);
      start = port;
      prev = port;
    }
  }
  return out;
}

// ---- the renderer-neutral graph -------------------------------------------------------------

export type NodeShape = 'host' | 'router' | 'network' | 'container' | 'internet';

export interface GraphNode {
  id: string;
  /** First line is the name; the rest are addresses and notes. */
  lines: string[];
  shape: NodeShape;
  cluster?: string;
}

export interface GraphEdge {
  from: string;
  to: string;
  label?: string;
}

export interface Graph {
  title: string;
  clusters: Array<{ id: string; label: string }>;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function ident(prefix: string, name: string): string {
  return `${prefix}_${name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '')}`;
}

export function topologyGraph(facts: TopologyFacts): Graph {
  const webArm = ident('node', facts.webArm.node);
  const upstream = ident('node', facts.upstream.node);
  const nodes: GraphNode[] = [
    { id: webArm, lines: [facts.webArm.node, ...facts.webArm.addresses.map((a) => `${facts.webArm.uplink} ${a}`)], shape: 'host', cluster: 'cluster_web_arm' },
  ];
  const edges: GraphEdge[] = [];
  for (const n of facts.podman.networks) {
    const id = ident('net', n.name);
    nodes.push({ id, lines: [n.bridge ? `${n.name} (${n.bridge})` : n.name, ...n.subnets], shape: 'network', cluster: 'cluster_web_arm' });
    edges.push({ from: webArm, to: id, label: n.bridge });
  }
  for (const c of facts.podman.containers) {
    const id = ident('ctr', c.name);
    nodes.push({ id, lines: [c.name, ...(c.published.length ? [`publishes ${c.published.join(', ')}`] : [])], shape: 'container', cluster: 'cluster_web_arm' });
    for (const n of c.networks) {
      edges.push({ from: ident('net', n.name), to: id, label: n.addresses.length ? n.addresses.join(', ') : undefined });
    }
  }
  nodes.push({
    id: upstream,
    lines: [`${facts.upstream.node} (router)`, `${facts.upstream.port} ${facts.upstream.linkAddresses.join(', ')}`, `${facts.upstream.bridge} ${facts.upstream.internetAddresses.join(', ')}`],
    shape: 'router',
  });
  edges.push({ from: webArm, to: upstream, label: `${facts.webArm.uplink} ↔ ${facts.upstream.port}` });
  for (const h of facts.internet) {
    const id = ident('inet', h.node);
    nodes.push({ id, lines: [h.dnsName ? `${h.node} (${h.dnsName})` : h.node, ...h.addresses], shape: 'internet', cluster: 'cluster_internet' });
    edges.push({ from: upstream, to: id, label: `${facts.upstream.bridge} ↔ ${h.ifname}` });
  }
  return {
    title: `v6lab ${facts.lab} (${facts.source})`,
    clusters: [
      { id: 'cluster_web_arm', label: `${facts.webArm.node}: namespaces, podman + netavark` },
      { id: 'cluster_internet', label: `internet (bridge ${facts.upstream.bridge} on ${facts.upstream.node})` },
    ],
    nodes,
    edges,
  };
}

// ---- Mermaid ---------------------------------------------------------------------------------

function mermaidText(text: string): string {
  return text.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/[\r\n]+/g, ' ');
}

const MERMAID_SHAPES: Record<NodeShape, [string, string]> = {
  host: ['[', ']'],
  router: ['[[', ']]'],
  network: ['{{', '}}'],
  container: ['([', '])'],
  internet: ['[', ']'],
};

function mermaidNode(n: GraphNode): string {
  const [open, close] = MERMAID_SHAPES[n.shape];
  return `${n.id}${open}"${n.lines.map(mermaidText).join('<br/>')}"${close}`;
}

/** A Mermaid flowchart (without the ``` fence), ending in a newline. */
export function renderMermaid(graph: Graph): string {
  const out = ['flowchart LR', `  %% ${mermaidText(graph.title)}`];
  for (const cluster of graph.clusters) {
    const members = graph.nodes.filter((n) => n.cluster === cluster.id);
    if (members.length === 0) continue;
    out.push(`  subgraph ${cluster.id}["${mermaidText(cluster.label)}"]`, '    direction TB');
    for (const n of members) out.push(`    ${mermaidNode(n)}`);
    out.push('  end');
  }
  for (const n of graph.nodes.filter((x) => !x.cluster)) out.push(`  ${mermaidNode(n)}`);
  for (const e of graph.edges) out.push(`  ${e.from} ---${e.label ? `|"${mermaidText(e.label)}"|` : ''} ${e.to}`);
  return `${out.join('\n')}\n`;
}

// ---- Graphviz DOT ----------------------------------------------------------------------------

function dotString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/[\r\n]+/g, ' ')}"`;
}

const DOT_SHAPES: Record<NodeShape, string> = {
  host: 'box',
  router: 'box3d',
  network: 'hexagon',
  container: 'box, style=rounded',
  internet: 'box',
};

function dotNode(n: GraphNode): string {
  const label = `"${n.lines.map((l) => dotString(l).slice(1, -1)).join('\\n')}"`;
  return `${n.id} [shape=${DOT_SHAPES[n.shape]}, label=${label}];`;
}

/** An undirected Graphviz graph, ending in a newline. */
export function renderDot(graph: Graph): string {
  const out = [
    `graph ${dotString(graph.title)} {`,
    '  graph [rankdir=LR, fontname="Helvetica"];',
    '  node [fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  for (const cluster of graph.clusters) {
    const members = graph.nodes.filter((n) => n.cluster === cluster.id);
    if (members.length === 0) continue;
    out.push(`  subgraph ${cluster.id} {`, `    label=${dotString(cluster.label)};`);
    for (const n of members) out.push(`    ${dotNode(n)}`);
    out.push('  }');
  }
  for (const n of graph.nodes.filter((x) => !x.cluster)) out.push(`  ${dotNode(n)}`);
  for (const e of graph.edges) out.push(`  ${e.from} -- ${e.to}${e.label ? ` [label=${dotString(e.label)}]` : ''};`);
  out.push('}');
  return `${out.join('\n')}\n`;
}
