// The state graph: the definition laid out by dagre, drawn as SVG, each state coloured by how
// the execution left it, and the transitions it took drawn heavier.
import dagre from '@dagrejs/dagre';
import htm from 'htm';
import { h } from 'preact';

const html = htm.bind(h);

/** How a state reads in the graph and its legend, as the Step Functions console colours them. */
export const OUTCOMES = {
  running: 'In progress',
  succeeded: 'Succeeded',
  retried: 'Succeeded after retries',
  caught: 'Caught error',
  failed: 'Failed',
  aborted: 'Stopped',
  'not-reached': 'Not reached',
};

/** When a state was visited more than once, the visit that says most wins. */
const WEIGHT = { running: 6, failed: 5, aborted: 4, caught: 3, retried: 2, succeeded: 1 };

/**
 * Each state's outcome over its visits, and the transitions the visits took: through a Catch when
 * the visit's error was caught, otherwise through Next or a Choice rule.
 */
export function pathOf(timeline) {
  const outcomes = {};
  const taken = new Set();
  timeline.forEach((visit, i) => {
    const before = outcomes[visit.state];
    if (!before || WEIGHT[visit.outcome] > WEIGHT[before]) outcomes[visit.state] = visit.outcome;
    const next = timeline[i + 1];
    if (next) taken.add(transition(visit.state, next.state, visit.outcome === 'caught'));
  });
  return { outcomes, taken };
}

const transition = (from, to, caught) => `${from}\u0000${to}\u0000${caught}`;

const NODE_HEIGHT = 34;
const nodeWidth = (name) => Math.max(110, Math.round(name.length * 7.4) + 28);

/** Positions for every state and edge (dagre returns node centres and edge polylines). */
export function layout(definition) {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 34, edgesep: 14, marginx: 8, marginy: 8 });
  for (const state of definition.states) {
    graph.setNode(state.name, { width: nodeWidth(state.name), height: NODE_HEIGHT, ...state });
  }
  definition.edges.forEach((edge, i) => {
    const label = edge.label ?? '';
    // The way a query goes when nothing fails weighs more, so that dagre keeps it straight and
    // the failure path beside it.
    const weight = edge.kind === 'catch' ? 1 : 4;
    graph.setEdge(
      edge.from,
      edge.to,
      { ...edge, weight, width: label.length * 6, height: label ? 12 : 0, labelpos: 'c' },
      String(i),
    );
  });
  dagre.layout(graph);
  const { width, height } = graph.graph();
  return {
    width,
    height,
    nodes: graph.nodes().map((name) => graph.node(name)),
    edges: graph.edges().map((e) => graph.edge(e)),
  };
}

const pathData = (points) =>
  points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');

export function StateGraph({ laidOut, timeline, selected, onSelect }) {
  const { outcomes, taken } = pathOf(timeline);
  return html`
    <figure class="graph">
      <svg
        viewBox=${`0 0 ${laidOut.width} ${laidOut.height}`}
        width=${laidOut.width}
        height=${laidOut.height}
        role="img"
        aria-label="State graph of the execution"
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" fill="#5f6b7a" />
          </marker>
        </defs>
        ${laidOut.edges.map((edge) => {
          const onPath = taken.has(transition(edge.from, edge.to, edge.kind === 'catch'));
          return html`<g class=${`edge ${edge.kind}${onPath ? ' taken' : ''}`}>
            <path d=${pathData(edge.points)} marker-end="url(#arrow)"><title>${edge.title ?? edge.label ?? ''}</title></path>
            ${edge.label && html`<text x=${edge.x} y=${edge.y + 4} text-anchor="middle">${edge.label}</text>`}
          </g>`;
        })}
        ${laidOut.nodes.map((node) => {
          const outcome = outcomes[node.name] ?? 'not-reached';
          return html`<g
            class=${`state ${outcome}${selected === node.name ? ' selected' : ''}`}
            data-state=${node.name}
            data-outcome=${outcome}
            transform=${`translate(${node.x - node.width / 2},${node.y - node.height / 2})`}
            onClick=${() => onSelect(node.name)}
          >
            <title>${`${node.name} (${node.type}): ${OUTCOMES[outcome]}\n${node.comment ?? ''}`}</title>
            <rect width=${node.width} height=${node.height} rx=${node.type === 'Choice' ? 17 : 6} />
            <text x=${node.width / 2} y=${node.height / 2 + 4} text-anchor="middle">${node.name}</text>
          </g>`;
        })}
      </svg>
      <figcaption class="legend">
        ${Object.entries(OUTCOMES).map(
          ([key, label]) => html`<span class=${`swatch ${key}`}><i></i>${label}</span>`,
        )}
      </figcaption>
    </figure>
  `;
}
