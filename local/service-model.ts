import { AwsServiceError } from './aws-json.ts';

/**
 * Requests checked against a service's model, as AWS checks them before an operation runs.
 *
 * What the JavaScript SDK ships of the model is used as it is: `@aws-sdk/client-*` export a
 * schema of every operation (`<Operation>$`: its input structure, each member's type, which
 * members are required) and every enum (`ExecutionStatus`, ...). So the operations a service has,
 * the types of their members and the required ones come from the SDK the project depends on, and
 * follow it when it is updated. The SDK drops the constraint traits (lengths, ranges, patterns)
 * and which enum a member takes, and no package on npm ships them in a machine-readable form (the
 * `aws-sdk` v2 package's `apis/*.min.json` strip them too); those come from a table per service
 * written from the API reference (for Step Functions, `stepfunctions/request-rules.ts`), whose
 * enum values are the SDK's and whose member names the table's test checks against the SDK's
 * schema.
 *
 * Errors are AWS's: a member of the wrong JSON type is a `SerializationException`; a missing
 * required member or a broken constraint a `ValidationException` listing every violation, worded
 * as AWS words them.
 */

/** A constraint on one member, as the model's traits state it. */
export interface MemberRule {
  /** Length of a string or list. */
  minLength?: number;
  maxLength?: number;
  /** Value of a number. */
  min?: number;
  max?: number;
  pattern?: RegExp;
  /** The values of the member's enum (from the SDK's exported enum object). */
  values?: readonly string[];
}

/** Rules per operation and member: `{ ListExecutions: { maxResults: { min: 0, max: 1000 } } }`. */
export type RequestRules = Record<string, Record<string, MemberRule>>;

type Kind =
  | 'string'
  | 'number'
  | 'boolean'
  | 'timestamp'
  | 'blob'
  | 'document'
  | 'list'
  | 'map'
  | 'structure';

interface Shape {
  kind: Kind;
  member?: Shape;
  members?: Map<string, Shape>;
  required?: Set<string>;
}

/** A service's operations and their input shapes, read from an SDK client package. */
export interface ServiceModel {
  readonly operations: ReadonlyMap<string, () => Shape>;
}

// The SDK's schemas are nested arrays; their element types are not exported.
type Schema = unknown;

const resolve = (schema: Schema): Schema =>
  typeof schema === 'function' ? resolve(schema()) : schema;

/** The SDK's numeric schema codes (`@smithy/core/schema`): 64 and 128 mark lists and maps. */
function simpleKind(code: number): Shape {
  if (code & 64) return { kind: 'list', member: simpleKind(code & 63) };
  if (code & 128) return { kind: 'map', member: simpleKind(code & 127) };
  if (code === 0) return { kind: 'string' };
  if (code === 1 || code === 17 || code === 19) return { kind: 'number' };
  if (code === 2) return { kind: 'boolean' };
  if (code >= 4 && code <= 7) return { kind: 'timestamp' };
  if (code === 15) return { kind: 'document' };
  return { kind: 'blob' };
}

function shapeOf(schema: Schema, depth = 0): Shape {
  const resolved = resolve(schema);
  if (typeof resolved === 'number') return simpleKind(resolved);
  if (!Array.isArray(resolved) || depth > 20) return { kind: 'document' };
  const [tag] = resolved;
  // A member with traits: [schema, traits].
  if (resolved.length === 2) return shapeOf(resolved[0], depth + 1);
  switch (tag) {
    case 0:
      // A named simple shape: [0, namespace, name, traits, base].
      return shapeOf(resolved[4], depth + 1);
    case 1:
      return { kind: 'list', member: shapeOf(resolved[4], depth + 1) };
    case 2:
      return { kind: 'map', member: shapeOf(resolved[5], depth + 1) };
    case 3: {
      const names = (resolved[4] as string[]) ?? [];
      const schemas = (resolved[5] as Schema[]) ?? [];
      const requiredCount = typeof resolved[6] === 'number' ? resolved[6] : 0;
      const members = new Map<string, Shape>();
      // Nested structures are read when a request has them, not up front.
      names.forEach((name, index) => {
        members.set(
          name,
          lazyShape(() => shapeOf(schemas[index], depth + 1)),
        );
      });
      return { kind: 'structure', members, required: new Set(names.slice(0, requiredCount)) };
    }
    default:
      return { kind: 'document' };
  }
}

/** A shape read on first use (recursive structures would otherwise never end). */
function lazyShape(read: () => Shape): Shape {
  let shape: Shape | undefined;
  const get = () => {
    shape ??= read();
    return shape;
  };
  return {
    get kind() {
      return get().kind;
    },
    get member() {
      return get().member;
    },
    get members() {
      return get().members;
    },
    get required() {
      return get().required;
    },
  };
}

/** The operations of an SDK client package (`import * as sdk from '@aws-sdk/client-sfn'`). */
export function serviceModelOf(sdk: Record<string, unknown>): ServiceModel {
  const operations = new Map<string, () => Shape>();
  for (const [key, value] of Object.entries(sdk)) {
    if (!key.endsWith('$') || !Array.isArray(value) || value[0] !== 9) continue;
    const name = value[2] as string;
    let shape: Shape | undefined;
    operations.set(name, () => {
      shape ??= shapeOf(value[4]);
      return shape;
    });
  }
  return { operations };
}

const JSON_TYPE: Record<Kind, (value: unknown) => boolean> = {
  string: (value) => typeof value === 'string',
  number: (value) => typeof value === 'number',
  boolean: (value) => typeof value === 'boolean',
  timestamp: (value) => typeof value === 'number' || typeof value === 'string',
  blob: (value) => typeof value === 'string',
  document: () => true,
  list: (value) => Array.isArray(value),
  map: (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
  structure: (value) => value !== null && typeof value === 'object' && !Array.isArray(value),
};

/** What AWS's JSON protocol says when a member has another type than the model's. */
function serializationError(path: string, kind: Kind): AwsServiceError {
  return new AwsServiceError(
    'SerializationException',
    `Cannot deserialize ${path}: the model declares it a ${kind}`,
  );
}

/** A value as AWS shows it in a validation message. */
export function shownValue(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  const rendered = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${rendered.length > 100 ? `${rendered.slice(0, 100)}...` : rendered}'`;
}

/** AWS's wording for a list of constraint violations. */
export function validationMessage(details: string[]): string {
  const count = `${details.length} validation error${details.length === 1 ? '' : 's'} detected`;
  return `${count}: ${details.join('; ')}`;
}

export const violation = (value: unknown, path: string, constraint: string) =>
  `Value ${shownValue(value)} at '${path}' failed to satisfy constraint: ${constraint}`;

function ruleViolations(value: unknown, path: string, rule: MemberRule): string[] {
  const found: string[] = [];
  const length = typeof value === 'string' || Array.isArray(value) ? value.length : undefined;
  if (length !== undefined && rule.minLength !== undefined && length < rule.minLength)
    found.push(
      violation(value, path, `Member must have length greater than or equal to ${rule.minLength}`),
    );
  if (length !== undefined && rule.maxLength !== undefined && length > rule.maxLength)
    found.push(
      violation(value, path, `Member must have length less than or equal to ${rule.maxLength}`),
    );
  if (typeof value === 'number') {
    if (!Number.isInteger(value) && (rule.min !== undefined || rule.max !== undefined))
      found.push(violation(value, path, 'Member must be an integer'));
    if (rule.min !== undefined && value < rule.min)
      found.push(
        violation(value, path, `Member must have value greater than or equal to ${rule.min}`),
      );
    if (rule.max !== undefined && value > rule.max)
      found.push(
        violation(value, path, `Member must have value less than or equal to ${rule.max}`),
      );
  }
  if (typeof value === 'string' && rule.pattern && !rule.pattern.test(value))
    found.push(
      violation(
        value,
        path,
        `Member must satisfy regular expression pattern: ${rule.pattern.source}`,
      ),
    );
  if (typeof value === 'string' && rule.values && !rule.values.includes(value))
    found.push(
      violation(value, path, `Member must satisfy enum value set: [${rule.values.join(', ')}]`),
    );
  return found;
}

/** AWS names members in messages in lower camel case (`sessionKeepAliveSeconds`). */
const lowerFirst = (name: string) => name.replace(/^./, (first) => first.toLowerCase());

/**
 * `path` is the member's path as the rules name it (`Parameters.name`), `shown` as AWS writes it
 * in a message (`parameters.1.member.name`).
 */
function check(
  value: unknown,
  shape: Shape,
  path: string,
  shown: string,
  rules: Record<string, MemberRule>,
  found: string[],
): void {
  if (!JSON_TYPE[shape.kind](value)) throw serializationError(shown || 'the request', shape.kind);
  if (shape.kind === 'structure') {
    const record = value as Record<string, unknown>;
    for (const [name, member] of shape.members ?? []) {
      const memberPath = path ? `${path}.${name}` : name;
      const memberShown = shown ? `${shown}.${lowerFirst(name)}` : lowerFirst(name);
      const memberValue = record[name];
      if (memberValue === undefined || memberValue === null) {
        if (shape.required?.has(name))
          found.push(violation(null, memberShown, 'Member must not be null'));
        continue;
      }
      check(memberValue, member, memberPath, memberShown, rules, found);
      const rule = rules[memberPath];
      if (rule) found.push(...ruleViolations(memberValue, memberShown, rule));
    }
  } else if (shape.kind === 'list' && shape.member) {
    (value as unknown[]).forEach((item, index) => {
      check(item, shape.member as Shape, path, `${shown}.${index + 1}.member`, rules, found);
    });
  }
}

/**
 * Checks a request against the operation's model and rules.
 *
 * @throws {AwsServiceError} `UnknownOperationException` for an operation the model lacks (an
 *   inherited name such as `constructor` included), `SerializationException` for a member of
 *   the wrong type, `ValidationException` for missing members and broken constraints.
 */
export function checkRequest(
  model: ServiceModel,
  rules: RequestRules,
  prefix: string,
  operation: string,
  input: Record<string, unknown>,
): void {
  const shape = model.operations.get(operation);
  if (!shape)
    throw new AwsServiceError(
      'UnknownOperationException',
      `${prefix} has no operation ${operation}`,
    );
  const found: string[] = [];
  check(input, shape(), '', '', rules[operation] ?? {}, found);
  if (found.length > 0) throw new AwsServiceError('ValidationException', validationMessage(found));
}
