import { tokenize } from '../../functions/common/sql-tokens.ts';
import { quoteIdentifier } from './sql-engine.ts';

/**
 * What a PostgreSQL server keeps per session, kept per connection on PGlite's one backend: the
 * settings a session changed (`SET`, `set_config`) and its temporary tables. Runs in the PGlite
 * worker; each request names its connection, and before a request of another connection runs,
 * the backend is switched to that connection's state:
 *
 * - the leaving connection's settings are read (`pg_settings` with source `session`, and the custom
 *   `a.b` names its SQL set, which `pg_settings` does not list) and reset with `RESET ALL`; the
 *   arriving connection's are set again;
 * - the leaving connection's temporary relations (tables, their indexes and sequences, views) are
 *   renamed to hidden names, and the arriving connection's renamed back. They stay in the one
 *   temporary schema, owned by their user: another user cannot read them, and no unqualified name
 *   finds them.
 *
 * A switch only happens between requests, never inside a transaction: the engine runs no other
 * connection's request while one connection's transaction is open.
 */

export type Execute = (
  sql: string,
  parameters: string[] | 'script',
) => Promise<{ rows: (string | null)[][] }>;

interface HiddenRelation {
  hidden: string;
  name: string;
  relkind: string;
}

interface SavedState {
  settings: [string, string][];
  hidden: HiddenRelation[];
  /** Custom settings (`app.user_id`) the connection's SQL named. */
  customNames: Set<string>;
}

/** Settings that are not the session's to keep: the engine sets the identity for each statement. */
const NOT_SAVED = [
  'session_authorization',
  'role',
  'transaction_isolation',
  'transaction_read_only',
  'transaction_deferrable',
];

const STATE_SQL = `SELECT 's', name, setting FROM pg_catalog.pg_settings
  WHERE source = 'session' AND name NOT IN (${NOT_SAVED.map((name) => `'${name}'`).join(', ')})
UNION ALL
SELECT 'r', c.relname, c.relkind::text FROM pg_catalog.pg_class c
  WHERE c.relnamespace = pg_catalog.pg_my_temp_schema() AND c.relkind IN ('r', 'i', 'S', 'v', 'p')`;

const ALTER_BY_RELKIND: Record<string, string> = {
  r: 'TABLE',
  p: 'TABLE',
  i: 'INDEX',
  S: 'SEQUENCE',
  v: 'VIEW',
};

/** `a.b` names after SET and in `set_config('a.b', ...)`: custom settings, which pg_settings omits. */
export function customSettingNames(sql: string): string[] {
  const tokens = tokenize(sql).filter((t) => t.kind !== 'whitespace' && t.kind !== 'comment');
  const names: string[] = [];
  tokens.forEach((token, i) => {
    const word = token.text.toLowerCase();
    if ((word === 'set' || word === 'session') && token.kind === 'word') {
      const [first, dot, second] = [tokens[i + 1], tokens[i + 2], tokens[i + 3]];
      if (first?.kind === 'word' && dot?.text === '.' && second?.kind === 'word')
        names.push(`${first.text}.${second.text}`.toLowerCase());
    }
    if (word === 'set_config' && tokens[i + 1]?.text === '(') {
      const argument = tokens[i + 2];
      if (argument?.kind === 'string' && argument.text.includes('.'))
        names.push(argument.text.slice(1, -1).toLowerCase());
    }
  });
  return names;
}

export class PgliteSessionStates {
  private readonly saved = new Map<number, SavedState>();
  private readonly hiddenNames = new Set<string>();
  /** The connection whose state is in the backend now; 0: nobody's. */
  private loaded = 0;
  private nextHidden = 1;
  /**
   * The settings the engine itself set at session level before any connection ran (the shims'
   * `search_path` of `"$user", public`). PGlite's boot default is `public`, so `RESET ALL` alone
   * would leave every later connection on a search path Redshift does not have.
   */
  private baseline: Map<string, string> | undefined;

  constructor(private readonly execute: Execute) {}

  private stateOf(connectionId: number): SavedState {
    let state = this.saved.get(connectionId);
    if (!state) {
      state = { settings: [], hidden: [], customNames: new Set() };
      this.saved.set(connectionId, state);
    }
    return state;
  }

  /** Notes the custom settings a statement may set, so that they are kept with its connection. */
  noteSql(connectionId: number, sql: string): void {
    const names = customSettingNames(sql);
    if (names.length === 0) return;
    const state = this.stateOf(connectionId);
    for (const name of names) state.customNames.add(name);
  }

  /** Puts `connectionId`'s state in the backend; run as the superuser, outside any transaction. */
  async switchTo(connectionId: number): Promise<void> {
    if (connectionId === this.loaded) return;
    if (this.baseline === undefined) await this.captureBaseline();
    await this.saveLoaded();
    this.loaded = connectionId;
    const state = this.saved.get(connectionId);
    if (!state) return;
    for (const relation of state.hidden) {
      this.hiddenNames.delete(relation.hidden);
      await this.rename(relation.relkind, relation.hidden, relation.name);
    }
    state.hidden = [];
    for (const [name, value] of state.settings)
      await this.execute('SELECT pg_catalog.set_config($1, $2, false)', [name, value]);
  }

  /** Forgets a closed connection: its temporary relations are dropped, as a session's end does. */
  async end(connectionId: number): Promise<void> {
    const state = this.saved.get(connectionId);
    this.saved.delete(connectionId);
    if (connectionId === this.loaded) {
      const { rows } = await this.execute(STATE_SQL, 'script');
      for (const [kind, name, relkind] of rows)
        if (kind === 'r' && !this.hiddenNames.has(name as string))
          await this.drop(relkind as string, name as string);
      await this.resetAll();
      this.loaded = 0;
    } else {
      for (const relation of state?.hidden ?? []) {
        this.hiddenNames.delete(relation.hidden);
        await this.drop(relation.relkind, relation.hidden);
      }
    }
  }

  private async saveLoaded(): Promise<void> {
    const leaving = this.loaded;
    if (leaving === 0) return;
    const { rows } = await this.execute(STATE_SQL, 'script');
    const state = this.stateOf(leaving);
    state.settings = [];
    let changed = false;
    for (const [kind, name, value] of rows as [string, string, string][]) {
      if (kind === 's') {
        if (this.baseline?.get(name) === value) continue;
        state.settings.push([name, value]);
        changed = true;
      } else if (!this.hiddenNames.has(name)) {
        const hidden = `spectra_session_${leaving}_${this.nextHidden++}`;
        // Indexes first would not matter: each relation is renamed on its own.
        await this.rename(value, name, hidden);
        this.hiddenNames.add(hidden);
        state.hidden.push({ hidden, name, relkind: value });
      }
    }
    for (const name of state.customNames) {
      const current = await this.execute('SELECT pg_catalog.current_setting($1, true)', [name]);
      const value = current.rows[0]?.[0];
      if (value !== null && value !== undefined && value !== '') {
        state.settings.push([name, value]);
        changed = true;
      }
    }
    if (changed || state.customNames.size > 0) await this.resetAll();
  }

  private async captureBaseline(): Promise<void> {
    const { rows } = await this.execute(STATE_SQL, 'script');
    this.baseline = new Map(
      (rows as [string, string, string][])
        .filter(([kind]) => kind === 's')
        .map(([, name, value]) => [name, value]),
    );
  }

  /** `RESET ALL`, then the engine's own settings again: what a fresh connection starts with. */
  private async resetAll(): Promise<void> {
    await this.execute('RESET ALL', 'script');
    for (const [name, value] of this.baseline ?? [])
      await this.execute('SELECT pg_catalog.set_config($1, $2, false)', [name, value]);
  }

  private async rename(relkind: string, from: string, to: string): Promise<void> {
    const kind = ALTER_BY_RELKIND[relkind] ?? 'TABLE';
    await this.execute(
      `ALTER ${kind} pg_temp.${quoteIdentifier(from)} RENAME TO ${quoteIdentifier(to)}`,
      'script',
    );
  }

  private async drop(relkind: string, name: string): Promise<void> {
    // Indexes go with their tables, sequences with the columns that own them.
    if (relkind === 'i') return;
    const kind = ALTER_BY_RELKIND[relkind] ?? 'TABLE';
    await this.execute(
      `DROP ${kind} IF EXISTS pg_temp.${quoteIdentifier(name)} CASCADE`,
      'script',
    ).catch(() => undefined);
  }
}
