import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { FUNCTIONS } from '../functions/registry.ts';
import { esbuildOptionsFor, FUNCTION_BUNDLE } from '../infra/bundling.ts';

/**
 * Bundles every Lambda function to `dist/<Name>/index.mjs` with the same esbuild options the CDK
 * app uses, so a bundling problem shows up in `npm run build` and not half-way through a deploy.
 */

const repoRoot = resolve(fileURLToPath(new URL('..', import.meta.url)));

export interface BundledFunction {
  name: string;
  file: string;
  bytes: number;
}

/** Bundles one entry (relative to the repository root) into `outDir/index.mjs`. */
export async function bundleFunction(entry: string, outDir: string): Promise<string> {
  const outfile = join(outDir, FUNCTION_BUNDLE.outputFile);
  await build({ ...esbuildOptionsFor(resolve(repoRoot, entry), outfile), absWorkingDir: repoRoot });
  return outfile;
}

/**
 * Bundles every function of the registry (functions/registry.ts) under `outRoot` (default
 * `dist/`), replacing what was there.
 */
export async function bundleAll(outRoot = join(repoRoot, 'dist')): Promise<BundledFunction[]> {
  const all = FUNCTIONS;
  await Promise.all(all.map((fn) => rm(join(outRoot, fn.name), { recursive: true, force: true })));
  return Promise.all(
    all.map(async (fn) => {
      const file = await bundleFunction(fn.entry, join(outRoot, fn.name));
      return { name: fn.name, file, bytes: statSync(file).size };
    }),
  );
}

/** Bundles everything and prints each bundle's size. */
export async function main(): Promise<void> {
  for (const fn of await bundleAll()) {
    console.log(`${fn.name.padEnd(24)} ${String(fn.bytes).padStart(9)} bytes  ${fn.file}`);
  }
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) await main();
