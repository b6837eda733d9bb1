// `npm run build`: bundles every Lambda function to dist/<Name>/index.mjs with the options the CDK
// app uses. The work is in TypeScript (scripts/bundle-functions.ts, which shares infra/bundling.ts
// with the CDK construct); Node 20 cannot load TypeScript itself, so tsx loads it.
import { tsImport } from 'tsx/esm/api';

const { main } = await tsImport('./bundle-functions.ts', import.meta.url);
await main();
