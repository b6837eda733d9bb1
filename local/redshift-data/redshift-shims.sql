-- Redshift functions that PostgreSQL lacks, so that SQL written for Redshift runs on the local
-- engines (PGlite and PostgreSQL). Loaded by the Data API emulator at start, as the superuser.
-- Idempotent: CREATE OR REPLACE everywhere, so loading it twice (engine and emulator) is harmless.
--
-- What PostgreSQL cannot take, and so is not here:
--   * SYSDATE without parentheses: PostgreSQL allows bare function calls only for its own
--     keywords (CURRENT_DATE, ...). `sysdate()` is provided; bare SYSDATE fails.
--   * DATEADD/DATEDIFF with a bare date part (`DATEADD(day, 1, d)`): the emulator quotes the
--     part before the SQL reaches the engine (sql-text.ts), so both spellings work.
--   * LISTAGG(...) WITHIN GROUP (ORDER BY ...): WITHIN GROUP is for ordered-set aggregates only.
--     Write `LISTAGG(x, ',' ORDER BY y)` instead.

-- Redshift sessions run in UTC unless told otherwise.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
END
$$;

-- GETDATE(): the current date and time, whole seconds, without time zone.
CREATE OR REPLACE FUNCTION getdate() RETURNS timestamp
  LANGUAGE sql STABLE
  AS $$ SELECT date_trunc('second', localtimestamp) $$;

-- SYSDATE(): the start of the current transaction, with microseconds.
CREATE OR REPLACE FUNCTION sysdate() RETURNS timestamp
  LANGUAGE sql STABLE
  AS $$ SELECT localtimestamp $$;

-- NVL(a, b): the first argument that is not null, as COALESCE.
CREATE OR REPLACE FUNCTION nvl(anycompatible, anycompatible) RETURNS anycompatible
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce($1, $2) $$;

-- LEN(s): characters in s; trailing blanks of a CHAR value do not count, as in Redshift.
CREATE OR REPLACE FUNCTION len(text) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT length($1) $$;

-- The canonical name of a Redshift date part (`yr`, `mons`, `d`, ...).
CREATE OR REPLACE FUNCTION spectra_date_part(part text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE lower(part)
      WHEN 'millennium' THEN 'millennium' WHEN 'millennia' THEN 'millennium'
      WHEN 'mil' THEN 'millennium' WHEN 'mils' THEN 'millennium'
      WHEN 'century' THEN 'century' WHEN 'centuries' THEN 'century'
      WHEN 'c' THEN 'century' WHEN 'cent' THEN 'century' WHEN 'cents' THEN 'century'
      WHEN 'decade' THEN 'decade' WHEN 'decades' THEN 'decade'
      WHEN 'dec' THEN 'decade' WHEN 'decs' THEN 'decade'
      WHEN 'year' THEN 'year' WHEN 'years' THEN 'year' WHEN 'y' THEN 'year'
      WHEN 'yr' THEN 'year' WHEN 'yrs' THEN 'year'
      WHEN 'quarter' THEN 'quarter' WHEN 'quarters' THEN 'quarter'
      WHEN 'qtr' THEN 'quarter' WHEN 'qtrs' THEN 'quarter'
      WHEN 'month' THEN 'month' WHEN 'months' THEN 'month'
      WHEN 'mon' THEN 'month' WHEN 'mons' THEN 'month'
      WHEN 'week' THEN 'week' WHEN 'weeks' THEN 'week' WHEN 'w' THEN 'week'
      WHEN 'day' THEN 'day' WHEN 'days' THEN 'day' WHEN 'd' THEN 'day'
      WHEN 'hour' THEN 'hour' WHEN 'hours' THEN 'hour' WHEN 'h' THEN 'hour'
      WHEN 'hr' THEN 'hour' WHEN 'hrs' THEN 'hour'
      WHEN 'minute' THEN 'minute' WHEN 'minutes' THEN 'minute' WHEN 'm' THEN 'minute'
      WHEN 'min' THEN 'minute' WHEN 'mins' THEN 'minute'
      WHEN 'second' THEN 'second' WHEN 'seconds' THEN 'second' WHEN 's' THEN 'second'
      WHEN 'sec' THEN 'second' WHEN 'secs' THEN 'second'
      WHEN 'millisecond' THEN 'millisecond' WHEN 'milliseconds' THEN 'millisecond'
      WHEN 'ms' THEN 'millisecond' WHEN 'msec' THEN 'millisecond' WHEN 'msecs' THEN 'millisecond'
      WHEN 'msecond' THEN 'millisecond' WHEN 'mseconds' THEN 'millisecond'
      WHEN 'millisec' THEN 'millisecond' WHEN 'millisecs' THEN 'millisecond'
      WHEN 'microsecond' THEN 'microsecond' WHEN 'microseconds' THEN 'microsecond'
      WHEN 'us' THEN 'microsecond' WHEN 'usec' THEN 'microsecond' WHEN 'usecs' THEN 'microsecond'
      WHEN 'microsec' THEN 'microsecond' WHEN 'microsecs' THEN 'microsecond'
      WHEN 'usecond' THEN 'microsecond' WHEN 'useconds' THEN 'microsecond'
    END
  $$;

-- DATEADD(part, n, t): t moved by n parts.
CREATE OR REPLACE FUNCTION dateadd(part text, amount bigint, moment timestamp) RETURNS timestamp
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    canonical text := spectra_date_part(part);
  BEGIN
    IF canonical IS NULL THEN
      RAISE EXCEPTION 'dateadd: unsupported date part "%"', part USING ERRCODE = '22023';
    END IF;
    RETURN CASE canonical
      WHEN 'millennium' THEN moment + make_interval(years => (amount * 1000)::int)
      WHEN 'century' THEN moment + make_interval(years => (amount * 100)::int)
      WHEN 'decade' THEN moment + make_interval(years => (amount * 10)::int)
      WHEN 'year' THEN moment + make_interval(years => amount::int)
      WHEN 'quarter' THEN moment + make_interval(months => (amount * 3)::int)
      WHEN 'month' THEN moment + make_interval(months => amount::int)
      WHEN 'week' THEN moment + make_interval(weeks => amount::int)
      WHEN 'day' THEN moment + make_interval(days => amount::int)
      WHEN 'hour' THEN moment + amount * interval '1 hour'
      WHEN 'minute' THEN moment + amount * interval '1 minute'
      WHEN 'second' THEN moment + amount * interval '1 second'
      WHEN 'millisecond' THEN moment + amount * interval '1 millisecond'
      ELSE moment + amount * interval '1 microsecond'
    END;
  END
  $$;

-- DATEDIFF(part, a, b): how many part boundaries lie between a and b (negative when b < a).
CREATE OR REPLACE FUNCTION datediff(part text, start_at timestamp, end_at timestamp)
  RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    canonical text := spectra_date_part(part);
    years bigint := extract(year FROM end_at)::bigint - extract(year FROM start_at)::bigint;
    months bigint := years * 12 + extract(month FROM end_at)::bigint
                     - extract(month FROM start_at)::bigint;
  BEGIN
    IF canonical IS NULL THEN
      RAISE EXCEPTION 'datediff: unsupported date part "%"', part USING ERRCODE = '22023';
    END IF;
    RETURN CASE canonical
      WHEN 'millennium' THEN floor(extract(year FROM end_at) / 1000)::bigint
                              - floor(extract(year FROM start_at) / 1000)::bigint
      WHEN 'century' THEN floor(extract(year FROM end_at) / 100)::bigint
                           - floor(extract(year FROM start_at) / 100)::bigint
      WHEN 'decade' THEN floor(extract(year FROM end_at) / 10)::bigint
                          - floor(extract(year FROM start_at) / 10)::bigint
      WHEN 'year' THEN years
      WHEN 'quarter' THEN years * 4 + (extract(quarter FROM end_at)::bigint
                                       - extract(quarter FROM start_at)::bigint)
      WHEN 'month' THEN months
      WHEN 'week' THEN (date_trunc('week', end_at)::date - date_trunc('week', start_at)::date) / 7
      WHEN 'day' THEN end_at::date - start_at::date
      WHEN 'hour' THEN (extract(epoch FROM date_trunc('hour', end_at) - date_trunc('hour', start_at))
                        / 3600)::bigint
      WHEN 'minute' THEN (extract(epoch FROM date_trunc('minute', end_at)
                                              - date_trunc('minute', start_at)) / 60)::bigint
      WHEN 'second' THEN extract(epoch FROM date_trunc('second', end_at)
                                             - date_trunc('second', start_at))::bigint
      WHEN 'millisecond' THEN floor(extract(epoch FROM end_at) * 1000)::bigint
                               - floor(extract(epoch FROM start_at) * 1000)::bigint
      ELSE floor(extract(epoch FROM end_at) * 1000000)::bigint
           - floor(extract(epoch FROM start_at) * 1000000)::bigint
    END;
  END
  $$;

-- LISTAGG(value [, delimiter] [ORDER BY ...]): the non-null values joined, as Redshift's LISTAGG.
CREATE OR REPLACE FUNCTION spectra_listagg_step(joined text, value text, delimiter text)
  RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT CASE
      WHEN value IS NULL THEN joined
      WHEN joined IS NULL THEN value
      ELSE joined || coalesce(delimiter, '') || value
    END
  $$;

CREATE OR REPLACE FUNCTION spectra_listagg_step(joined text, value text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra_listagg_step(joined, value, '') $$;

CREATE OR REPLACE AGGREGATE listagg(text, text) (
  SFUNC = spectra_listagg_step,
  STYPE = text
);

CREATE OR REPLACE AGGREGATE listagg(text) (
  SFUNC = spectra_listagg_step,
  STYPE = text
);
