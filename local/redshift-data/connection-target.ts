import { type ConnectionTarget, LOCAL_DATABASE } from './model.ts';
import { type ConnectionRequest, validationError } from './requests.ts';
import { compact } from './result-format.ts';

/**
 * Where a statement that opens its own connection runs, and as which database user, from the
 * request's connection fields: the rules that span fields, which the request shapes cannot check
 * on their own.
 */

/** The database user a Serverless statement with IAM credentials runs as, locally. */
export const SERVERLESS_IAM_DB_USER = 'iamr_local';

/**
 * The db user a secret stands for: the last `/` part of the secret name, without AWS's
 * `-XXXXXX` suffix, lower-cased (`...:secret:spectra/acme-AbC123` → `acme`); `secret_user` when
 * the ARN has no secret name.
 */
export function dbUserFromSecretArn(secretArn: string): string {
  const secretName = /:secret:([^:]+)$/.exec(secretArn)?.[1];
  if (!secretName) return 'secret_user';
  const withoutSuffix = secretName.replace(/-[A-Za-z0-9]{6}$/, '');
  const lastPart = withoutSuffix.split('/').at(-1) ?? '';
  const user = lastPart.toLowerCase().replace(/[^a-z0-9_$]/g, '_');
  if (user === '') return 'secret_user';
  return /^[0-9$]/.test(user) ? `_${user}`.slice(0, 127) : user.slice(0, 127);
}

export function checkDatabase(database: string): void {
  if (database !== LOCAL_DATABASE)
    throw validationError(
      `Database "${database}" does not exist. The local warehouse has one database: ${LOCAL_DATABASE}.`,
    );
}

/** The connection of a statement that opens its own (no SessionId). */
export function resolveTarget(request: ConnectionRequest): ConnectionTarget {
  const { ClusterIdentifier, WorkgroupName, DbUser, SecretArn, Database } = request;
  if (ClusterIdentifier && WorkgroupName)
    throw validationError('Specify either ClusterIdentifier or WorkgroupName, not both.');
  if (!ClusterIdentifier && !WorkgroupName)
    throw validationError('Either ClusterIdentifier or WorkgroupName needs to be specified.');
  if (DbUser && SecretArn) throw validationError('Specify either DbUser or SecretArn, not both.');
  // On Serverless, temporary credentials need no DbUser: the service derives the database user
  // from the caller's IAM identity (IAMR:<role>). Locally every caller is the same identity.
  const serverlessIamUser =
    WorkgroupName && !DbUser && !SecretArn ? SERVERLESS_IAM_DB_USER : undefined;
  if (!DbUser && !SecretArn && !serverlessIamUser)
    throw validationError(
      'Either DbUser or SecretArn needs to be specified: the local warehouse runs every statement as a database user.',
    );
  if (!Database)
    throw validationError(
      `Database needs to be specified; the local database is ${LOCAL_DATABASE}.`,
    );
  checkDatabase(Database);
  return compact({
    dbUser: DbUser ?? serverlessIamUser ?? dbUserFromSecretArn(SecretArn ?? ''),
    database: Database,
    clusterIdentifier: ClusterIdentifier,
    workgroupName: WorkgroupName,
    secretArn: SecretArn,
  }) as ConnectionTarget;
}
