// The graph of GET /assistants/{id}/graph drawn as SVG, laid out by dagre: one <g> per node
// carrying the node's name, edges as paths (conditional ones dashed).
import { graphlib, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';

const NODE_HEIGHT = 36;

function nodeLabel(node) {
  return String(node.id);
}

function build(drawing) {
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, marginx: 12, marginy: 12 });
  g.setDefaultEdgeLabel(() => ({}));
  const ids = new Set();
  for (const node of drawing.nodes || []) {
    const label = nodeLabel(node);
    ids.add(String(node.id));
    g.setNode(String(node.id), { label, width: Math.max(72, label.length * 8 + 28), height: NODE_HEIGHT });
  }
  (drawing.edges || []).forEach((edge, i) => {
    const [source, target] = [String(edge.source), String(edge.target)];
    if (!ids.has(source) || !ids.has(target)) return; // an edge to a node not drawn
    g.setEdge(source, target, { conditional: !!edge.conditional, data: edge.data }, `e${i}`);
  });
  layout(g);
  return g;
}

function path(points) {
  return points.map((p, i) => `${i ? 'L' : 'M'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

export function GraphView({ drawing }) {
  const g = useMemo(() => build(drawing), [drawing]);
  const { width = 0, height = 0 } = g.graph();
  return (
    <svg
      class="graph"
      role="img"
      aria-label="Graph"
      viewBox={`0 0 ${Math.ceil(width)} ${Math.ceil(height)}`}
      width={Math.ceil(width)}
      height={Math.ceil(height)}
    >
      <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
          <path d="M0,0 L10,5 L0,10 z" class="arrowhead" />
        </marker>
      </defs>
      {g.edges().map((e) => {
        const edge = g.edge(e);
        return (
          <path
            key={e.name}
            class={edge.conditional ? 'edge conditional' : 'edge'}
            d={path(edge.points)}
            marker-end="url(#arrow)"
          />
        );
      })}
      {g.nodes().map((id) => {
        const n = g.node(id);
        const special = id === '__start__' || id === '__end__';
        return (
          <g key={id} class={special ? 'node special' : 'node'} data-node={id} transform={`translate(${n.x - n.width / 2},${n.y - n.height / 2})`}>
            <rect width={n.width} height={n.height} rx={special ? 18 : 6} />
            <text x={n.width / 2} y={n.height / 2} dominant-baseline="central" text-anchor="middle">
              {n.label}
            </text>
          </g>
        );
      })}
    </svg>
  );
}
