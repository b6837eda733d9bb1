import { basename, extname } from 'node:path';
import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * How every Spectra function is bundled, in one place for the CDK construct (which runs the esbuild
 * CLI through `NodejsFunction`) and for `scripts/bundle-functions.ts` (which calls esbuild's API),
 * so that what `npm run build` produces and tests is what `cdk deploy` uploads.
 */
export const FUNCTION_BUNDLE = {
  /** The Lambda runtime is nodejs22.x; esbuild lowers nothing that Node 22 understands. */
  target: 'node22',
  platform: 'node',
  /** ESM, as the source is: top-level await stays legal and the file is `index.mjs`. */
  format: 'esm',
  minify: true,
  /** Linked source maps, read by Node with `--enable-source-maps` so stack traces name source lines. */
  sourcemap: true,
  /** Stack traces need only the mappings; the sources would double the asset for nothing. */
  sourcesContent: false,
  /**
   * The minifier would otherwise rename classes and functions. Error names are string literals
   * already (functions/common/errors.ts), but logs and traces read better with the real names.
   */
  keepNames: true,
  /** Prefer the ES module build of dependencies that ship both. */
  mainFields: ['module', 'main'],
  /**
   * An ESM bundle has no `require`; a CommonJS dependency that requires a Node built-in at run time
   * would fail with "Dynamic require of ... is not supported". This gives it the real one.
   */
  banner:
    "import { createRequire as __spectraCreateRequire } from 'node:module'; const require = __spectraCreateRequire(import.meta.url);",
  /**
   * Nothing is left to the runtime, not even the AWS SDK: the Data API's session and long-poll
   * fields (`SessionId`, `SessionKeepAliveSeconds`, `WaitTimeSeconds`) need a recent client, and
   * the SDK in the Lambda runtime is whatever version AWS last installed. The SDK the tests ran
   * with (package-lock.json) is the one that ships.
   */
  external: [] as string[],
  /** The file name NodejsFunction gives an ESM bundle. */
  outputFile: 'index.mjs',
} as const;

/** The `bundling` props of a `NodejsFunction` that produce {@link FUNCTION_BUNDLE}. */
export function cdkBundlingOptions(): BundlingOptions {
  return {
    target: FUNCTION_BUNDLE.target,
    format: OutputFormat.ESM,
    minify: FUNCTION_BUNDLE.minify,
    sourceMap: FUNCTION_BUNDLE.sourcemap,
    sourcesContent: FUNCTION_BUNDLE.sourcesContent,
    keepNames: FUNCTION_BUNDLE.keepNames,
    mainFields: [...FUNCTION_BUNDLE.mainFields],
    banner: FUNCTION_BUNDLE.banner,
    externalModules: [...FUNCTION_BUNDLE.external],
    bundleAwsSDK: true,
    // Bundling runs esbuild from node_modules; a machine without Docker (CI, this one) must never
    // fall back to a container build.
    forceDockerBundling: false,
  };
}

/** The esbuild API options that produce {@link FUNCTION_BUNDLE} for one entry file. */
export function esbuildOptionsFor(entry: string, outfile: string): BuildOptions {
  return { ...bundleOptions(), entryPoints: [entry], outfile };
}

/**
 * The esbuild API options that produce {@link FUNCTION_BUNDLE} for several entries in one run,
 * each to `<outdir>/<out>/index.mjs`: the dependencies they share are parsed once. Without code
 * splitting, each output is byte for byte the bundle a run of its own entry writes.
 */
export function esbuildOptionsForEach(
  entries: readonly { entry: string; out: string }[],
  outdir: string,
): BuildOptions {
  const extension = extname(FUNCTION_BUNDLE.outputFile);
  const name = basename(FUNCTION_BUNDLE.outputFile, extension);
  return {
    ...bundleOptions(),
    entryPoints: entries.map(({ entry, out }) => ({ in: entry, out: `${out}/${name}` })),
    outdir,
    outExtension: { '.js': extension },
  };
}

function bundleOptions(): BuildOptions {
  return {
    bundle: true,
    target: FUNCTION_BUNDLE.target,
    platform: FUNCTION_BUNDLE.platform,
    format: FUNCTION_BUNDLE.format,
    minify: FUNCTION_BUNDLE.minify,
    sourcemap: FUNCTION_BUNDLE.sourcemap,
    sourcesContent: FUNCTION_BUNDLE.sourcesContent,
    keepNames: FUNCTION_BUNDLE.keepNames,
    mainFields: [...FUNCTION_BUNDLE.mainFields],
    banner: { js: FUNCTION_BUNDLE.banner },
    external: [...FUNCTION_BUNDLE.external],
    logLevel: 'warning',
  };
}
