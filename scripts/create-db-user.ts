import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_LOCAL_PORT } from '../local/identity.ts';

/**
 * `npm run create-db-user -- <tenant id> [...]`: creates each tenant's database user on a running
 * local stack (`npm start`), named as the functions name it, with the demo grants and row-level
 * security on its own rows, through `POST /_spectra/db-users`. Locally, as on Redshift, a tenant
 * whose user does not exist cannot run a query.
 */

const USAGE = `Usage: npm run create-db-user -- <tenant id> [<tenant id> ...] [--endpoint URL]

Creates each tenant's database user on the local stack started by \`npm start\`.
  --endpoint URL  the local stack (default: AWS_ENDPOINT_URL, else http://127.0.0.1:${DEFAULT_LOCAL_PORT})`;

export interface CreatedUser {
  tenantId: string;
  dbUser: string;
  created: boolean;
}

/** Asks the local stack at `endpoint` to create the tenant's database user. */
export async function createDbUser(endpoint: string, tenantId: string): Promise<CreatedUser> {
  const url = new URL('/_spectra/db-users', endpoint);
  let response: Response;
  try {
    response = await fetch(url, { method: 'POST', body: JSON.stringify({ tenantId }) });
  } catch (error) {
    throw new Error(
      `No local stack answers at ${endpoint} (${(error as Error).message}); start one with \`npm start\``,
    );
  }
  const answer = (await response.json().catch(() => ({}))) as Partial<CreatedUser> & {
    message?: string;
  };
  if (!response.ok)
    throw new Error(answer.message ?? `${url} answered ${response.status} ${response.statusText}`);
  return answer as CreatedUser;
}

export async function main(argv: string[]): Promise<number> {
  let tenants: string[];
  let endpointOption: string | undefined;
  try {
    const parsed = parseArgs({
      args: argv,
      options: { endpoint: { type: 'string' } },
      allowPositionals: true,
    });
    tenants = parsed.positionals;
    endpointOption = parsed.values.endpoint;
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (tenants.length === 0) {
    console.error(USAGE);
    return 2;
  }
  const endpoint =
    endpointOption ??
    process.env.AWS_ENDPOINT_URL ??
    `http://127.0.0.1:${process.env.SPECTRA_LOCAL_PORT || DEFAULT_LOCAL_PORT}`;
  for (const tenantId of tenants) {
    try {
      const user = await createDbUser(endpoint, tenantId);
      console.log(
        user.created
          ? `Created database user ${user.dbUser} for tenant ${user.tenantId}: it sees the tenant's rows of sales and listing.`
          : `Database user ${user.dbUser} of tenant ${user.tenantId} exists already.`,
      );
    } catch (error) {
      console.error(`Tenant ${tenantId}: ${(error as Error).message}`);
      return 1;
    }
  }
  return 0;
}

const invokedDirectly =
  process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (invokedDirectly) process.exitCode = await main(process.argv.slice(2));
