import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../functions/registry.ts';

/**
 * Rules of the import graph, read from the source files themselves (TypeScript's parser, not a
 * pattern): who may load a Lambda module, and what the deployment may depend on.
 */

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const SKIPPED = new Set(['node_modules', 'cdk.out', 'dist', 'coverage']);

interface Import {
  /** The importing file, from the repository's root. */
  from: string;
  /** The imported file, from the repository's root; the specifier itself for a package. */
  to: string;
  /** Only types are imported: nothing of the module runs. */
  typeOnly: boolean;
}

/** The source files below `folder` (from the root), not entering the skipped or hidden folders. */
function sourceFiles(folder = ''): string[] {
  return readdirSync(join(root, folder), { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name) || entry.name.startsWith('.')) return [];
    const path = folder === '' ? entry.name : `${folder}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|mjs)$/.test(path) && !path.endsWith('.d.ts') ? [path] : [];
  });
}

/** `#common/x` (package.json's imports) and relative specifiers, as paths from the root. */
function resolveSpecifier(from: string, specifier: string): string {
  if (specifier.startsWith('#common/')) return `functions/common/${specifier.slice(8)}.ts`;
  if (specifier.startsWith('.')) return relative(root, resolve(root, dirname(from), specifier));
  return specifier;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(root, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false);
  const found: Import[] = [];
  const add = (specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (specifier && ts.isStringLiteralLike(specifier))
      found.push({ from: file, to: resolveSpecifier(file, specifier.text), typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings;
      const everyNameIsType =
        clause !== undefined &&
        clause.name === undefined &&
        named !== undefined &&
        ts.isNamedImports(named) &&
        named.elements.length > 0 &&
        named.elements.every((element) => element.isTypeOnly);
      add(node.moduleSpecifier, clause?.isTypeOnly === true || everyNameIsType);
    } else if (ts.isExportDeclaration(node)) {
      add(node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const graph = sourceFiles().flatMap(importsOf);
const lambdaModules = new Set<string>(FUNCTIONS.map((fn) => fn.entry));

/** Where a Lambda module's code may be imported: the unit tests of the functions' cores. */
const mayImportLambdaModules = (file: string) => file.startsWith('test/unit/');

describe('The import graph', () => {
  it('is read from the tree: the rules below see the imports they judge', () => {
    expect(graph).toContainEqual({
      from: 'test/unit/submit/reaching-redshift.test.ts',
      to: 'functions/submit.ts',
      typeOnly: false,
    });
    expect(graph).toContainEqual({
      from: 'infra/spectra-stack.ts',
      to: 'functions/registry.ts',
      typeOnly: false,
    });
    expect(graph.filter((edge) => edge.typeOnly).length).toBeGreaterThan(0);
  });

  it('loads a Lambda module only through the registry, or in a unit test of its core', () => {
    const offending = graph.filter(
      (edge) => lambdaModules.has(edge.to) && !edge.typeOnly && !mayImportLambdaModules(edge.from),
    );

    expect(offending).toEqual([]);
  });

  it('keeps the deployment (infra/) free of the local stack', () => {
    const offending = graph.filter(
      (edge) => edge.from.startsWith('infra/') && edge.to.startsWith('local/'),
    );

    expect(graph.some((edge) => edge.from.startsWith('infra/'))).toBe(true);
    expect(offending).toEqual([]);
  });

  it('gives the tests on mocked clients their mocks from one module, which makes each once per worker', () => {
    // These tests share a module graph (vitest.config.ts): a second mockClient of a class would
    // replace the shared one, whose answers would then stop in every other file.
    const sharingMocks = (file: string) =>
      file.startsWith('test/unit/') || file.startsWith('test/client/spectra-client/');
    const offending = graph.filter(
      (edge) => sharingMocks(edge.from) && edge.to === 'aws-sdk-client-mock',
    );

    expect(graph).toContainEqual({
      from: 'test/support/mocked-clients.ts',
      to: 'aws-sdk-client-mock',
      typeOnly: false,
    });
    expect(offending).toEqual([]);
  });
});
