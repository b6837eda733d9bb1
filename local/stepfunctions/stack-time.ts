/**
 * The definition as the local engine runs it on the stack's clock (local/clock.ts).
 * aws-local-stepfunctions waits in its Wait states with the machine's timers and sets
 * `$$.Execution.StartTime` from the machine's clock, and it offers no hook for either. So the
 * local service hands the engine a copy of the definition in which:
 *
 * - each Wait state is a Task state of the same name and transitions, which the service runs
 *   itself: it reads the wait from the state's input as the Wait would (`Seconds`,
 *   `SecondsPath`, `Timestamp`, `TimestampPath`) and sleeps that long on the stack's clock. The
 *   history reports it as the Wait it is;
 * - every reference to `$$.Execution.StartTime` reads the start the service recorded instead.
 *
 * The definition the service registers, describes and shows is the original.
 */

interface AslState {
  Type: string;
  Seconds?: number;
  SecondsPath?: string;
  Timestamp?: string;
  TimestampPath?: string;
  Next?: string;
  End?: boolean;
  Comment?: string;
  [field: string]: unknown;
}

interface AslDefinition {
  States: Record<string, AslState>;
  [field: string]: unknown;
}

/** How a Wait state says how long it waits. */
export type WaitSpec = Pick<AslState, 'Seconds' | 'SecondsPath' | 'Timestamp' | 'TimestampPath'>;

/** The context field with the start the service recorded, on its clock. */
export const STACK_START_TIME_FIELD = 'StackStartTime';

/** The resource of a Wait state run as a Task: it names no Lambda function, and none is called. */
export const STACK_WAIT_RESOURCE =
  'arn:aws:states:us-east-1:000000000000:activity:stack-clock-wait';

export interface StackTimeDefinition {
  definition: object;
  /** The Wait states by name, with how each says how long it waits. */
  waits: Map<string, WaitSpec>;
}

/** Replaces every `$$.Execution.StartTime` path in a state's templates (Parameters, ResultSelector, ...). */
function withStackStartTime(value: unknown): unknown {
  if (typeof value === 'string')
    return value === '$$.Execution.StartTime' ? `$$.Execution.${STACK_START_TIME_FIELD}` : value;
  if (Array.isArray(value)) return value.map(withStackStartTime);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([key, field]) => [key, withStackStartTime(field)]),
    );
  return value;
}

export function stackTimeDefinition(definition: object): StackTimeDefinition {
  const original = definition as AslDefinition;
  const waits = new Map<string, WaitSpec>();
  const states: Record<string, unknown> = {};
  for (const [name, state] of Object.entries(original.States)) {
    if (state.Type !== 'Wait') {
      states[name] = withStackStartTime(state);
      continue;
    }
    const { Seconds, SecondsPath, Timestamp, TimestampPath, Next, End, Comment } = state;
    waits.set(name, { Seconds, SecondsPath, Timestamp, TimestampPath });
    states[name] = {
      Type: 'Task',
      Comment,
      Resource: STACK_WAIT_RESOURCE,
      ...(End ? { End } : { Next }),
    };
  }
  return { definition: { ...original, States: states }, waits };
}

/**
 * The value at a reference path (`$`, `$.a.b`, `$['a'].b`, `$.a[0]`), the kind of path
 * `SecondsPath` and `TimestampPath` allow: no filters, wildcards or slices, so a JSONPath
 * library would add nothing but a dependency.
 */
export function valueAtReferencePath(path: string, input: unknown): unknown {
  if (!path.startsWith('$')) throw new Error(`Not a reference path: ${path}`);
  let value: unknown = input;
  const steps = path.slice(1).matchAll(/\.([A-Za-z0-9_$-]+)|\['([^']*)'\]|\[(\d+)\]/g);
  for (const [, dotted, quoted, index] of steps) {
    const key = dotted ?? quoted ?? Number(index);
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** How long a Wait state waits, in milliseconds, given its input and the time now. */
export function waitMilliseconds(spec: WaitSpec, input: unknown, now: number): number {
  if (spec.Seconds !== undefined) return spec.Seconds * 1000;
  if (spec.Timestamp !== undefined) return Date.parse(spec.Timestamp) - now;
  if (spec.SecondsPath !== undefined) {
    const seconds = valueAtReferencePath(spec.SecondsPath, input);
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0)
      throw Object.assign(
        new Error(`SecondsPath ${spec.SecondsPath} must be a whole number of seconds, 0 or more`),
        { name: 'States.Runtime' },
      );
    return seconds * 1000;
  }
  if (spec.TimestampPath !== undefined) {
    const timestamp = valueAtReferencePath(spec.TimestampPath, input);
    if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp)))
      throw Object.assign(new Error(`TimestampPath ${spec.TimestampPath} must be a timestamp`), {
        name: 'States.Runtime',
      });
    return Date.parse(timestamp) - now;
  }
  return 0;
}
