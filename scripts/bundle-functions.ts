import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/registry.ts';
import { esbuildOptionsFor, esbuildOptionsForEach, FUNCTION_BUNDLE } from '../infra/bundling.ts';

/**
 * Bundles every Lambda function to `dist/<Name>/index.mjs` with the same esbuild options the CDK
 * app uses, so a bundling problem shows up in `npm run build` and not half-way through a deploy.
 */

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BundledFunction {
  name: string;
  file: string;
  bytes: number;
  /**
   * The bundle's bytes by the package they come from (`@aws-sdk/client-s3`, `zod`, ...), or by
   * the top folder of the repository's own files (`functions`), largest first.
   */
  packages: Record<string, number>;
}

/** Bundles one entry (relative to the repository root) into `outDir/index.mjs`. */
export async function bundleFunction(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, FUNCTION_BUNDLE.outputFile);
  await build({ ...esbuildOptionsFor(resolve(repoRoot, entry), outfile), absWorkingDir: repoRoot });
  return outfile;
}

/** The package an input of esbuild's metafile belongs to: the last `node_modules/` of its path. */
function packageOf(input: string): string {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at === -1) return parts[0] ?? input;
  const name = parts[at + 1] ?? input;
  return name.startsWith('@') ? `${name}/${parts[at + 2]}` : name;
}

/**
 * Bundles every function of the registry (functions/registry.ts) under `outRoot` (default
 * `dist/`), replacing what was there, in one esbuild run.
 */
export async function bundleAll(outRoot = join(repoRoot, 'dist')): Promise<BundledFunction[]> {
  await Promise.all(
    FUNCTIONS.map((fn) => rm(join(outRoot, fn.name), { recursive: true, force: true })),
  );
  const { metafile } = await build({
    ...esbuildOptionsForEach(
      FUNCTIONS.map((fn) => ({ entry: fn.entry, out: fn.name })),
      outRoot,
    ),
    absWorkingDir: repoRoot,
    metafile: true,
  });
  return FUNCTIONS.map((fn) => {
    const file = join(outRoot, fn.name, FUNCTION_BUNDLE.outputFile);
    const output = metafile.outputs[relative(repoRoot, file)];
    if (!output) throw new Error(`esbuild wrote no ${file}`);
    const packages = new Map<string, number>();
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      if (bytesInOutput > 0)
        packages.set(packageOf(input), (packages.get(packageOf(input)) ?? 0) + bytesInOutput);
    }
    return {
      name: fn.name,
      file,
      bytes: statSync(file).size,
      packages: Object.fromEntries([...packages].sort(([, a], [, b]) => b - a)),
    };
  });
}

/** How many of a bundle's largest packages `npm run build` names. */
const PACKAGES_SHOWN = 5;

/** Bundles everything and prints each bundle's size and what takes the most of it. */
export async function main(): Promise<void> {
  const kB = (bytes: number) => `${Math.round(bytes / 1000).toLocaleString('en-US')} kB`;
  for (const fn of await bundleAll()) {
    const largest = Object.entries(fn.packages)
      .slice(0, PACKAGES_SHOWN)
      .map(([name, bytes]) => `${name} ${kB(bytes)}`);
    console.log(
      `${fn.name.padEnd(24)} ${fn.bytes.toLocaleString('en-US').padStart(9)} bytes  ${relative(repoRoot, fn.file)}`,
    );
    console.log(`${''.padEnd(24)} largest: ${largest.join(', ')}`);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) await main();
