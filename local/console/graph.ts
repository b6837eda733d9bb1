/**
 * A definition's states and transitions, for the console to lay out and draw: each state once,
 * and an edge for every way out of it (Next, a Choice rule, Default, a Catch), labelled.
 */

interface AslState {
  Type: string;
  Comment?: string;
  Next?: string;
  Default?: string;
  Choices?: AslChoice[];
  Catch?: { ErrorEquals: string[]; Next: string }[];
}

interface AslChoice {
  Next?: string;
  Variable?: string;
  StringEquals?: string;
  NumericEquals?: number;
  IsPresent?: boolean;
  Or?: AslChoice[];
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: 'next' | 'choice' | 'default' | 'catch';
  label?: string;
  /** The full text behind a shortened label. */
  title?: string;
}

export interface StateGraph {
  startAt: string;
  states: { name: string; type: string; comment?: string }[];
  edges: GraphEdge[];
}

/**
 * `$.statement.status == "FINISHED"` → `FINISHED`, `$.statement.cancelledFor` present →
 * `cancelledFor set`; an `Or` joins its parts with ` or `.
 */
function choiceLabel(rule: AslChoice): string {
  if (rule.Or) return rule.Or.map(choiceLabel).join(' or ');
  const field = rule.Variable?.split('.').at(-1) ?? '';
  if (rule.StringEquals !== undefined) return rule.StringEquals;
  if (rule.NumericEquals !== undefined) return `${field} = ${rule.NumericEquals}`;
  if (rule.IsPresent !== undefined) return rule.IsPresent ? `${field} set` : `no ${field}`;
  return field;
}

function catchLabel(errors: string[]): { label: string; title: string } {
  const title = errors.join(', ');
  return { label: errors.length > 2 ? `${errors.length} errors` : title, title };
}

export function stateGraph(definition: {
  StartAt: string;
  States: Record<string, AslState>;
}): StateGraph {
  const edges: GraphEdge[] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Next) edges.push({ from: name, to: state.Next, kind: 'next' });
    for (const rule of state.Choices ?? []) {
      if (rule.Next)
        edges.push({ from: name, to: rule.Next, kind: 'choice', label: choiceLabel(rule) });
    }
    if (state.Default)
      edges.push({ from: name, to: state.Default, kind: 'default', label: 'otherwise' });
    for (const rule of state.Catch ?? []) {
      edges.push({ from: name, to: rule.Next, kind: 'catch', ...catchLabel(rule.ErrorEquals) });
    }
  }
  return {
    startAt: definition.StartAt,
    states: Object.entries(definition.States).map(([name, state]) => ({
      name,
      type: state.Type,
      comment: state.Comment,
    })),
    edges,
  };
}
