-- Redshift functions that PostgreSQL lacks, so that SQL written for Redshift runs on the local
-- engines (PGlite and PostgreSQL). Loaded by the Data API emulator at start, as the superuser.
-- Idempotent: CREATE OR REPLACE everywhere, so loading it twice (engine and emulator) is harmless.
--
-- Syntax PostgreSQL cannot take (bare SYSDATE, DATEADD(day, ...) with a bare date part,
-- LISTAGG ... WITHIN GROUP, TOP, QUALIFY, DISTKEY, ...) is translated before the SQL reaches the
-- engine (dialect/translate.ts), into calls of the functions below.
--
-- One file though long: it is a catalogue of Redshift's functions, each found by its name, and
-- both engines load it in one go, in order (the `spectra` schema and create_overloads come before
-- the functions made with them), so a split would only add a load order to keep in step twice.

-- Redshift sessions run in UTC unless told otherwise.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET timezone TO %L', current_database(), 'UTC');
  -- Redshift's default search path; PGlite's one backend takes it at once.
  EXECUTE format('ALTER DATABASE %I SET search_path TO "$user", public', current_database());
  SET search_path TO "$user", public;
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

-- The canonical name of a Redshift date part (`yr`, `mons`, `d`, ...): each part with the names
-- Redshift takes for it.
CREATE OR REPLACE FUNCTION spectra_date_part(part text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT canonical FROM (VALUES
      ('millennium', ARRAY['millennium', 'millennia', 'mil', 'mils']),
      ('century', ARRAY['century', 'centuries', 'c', 'cent', 'cents']),
      ('decade', ARRAY['decade', 'decades', 'dec', 'decs']),
      ('year', ARRAY['year', 'years', 'y', 'yr', 'yrs']),
      ('quarter', ARRAY['quarter', 'quarters', 'qtr', 'qtrs']),
      ('month', ARRAY['month', 'months', 'mon', 'mons']),
      ('week', ARRAY['week', 'weeks', 'w']),
      ('day', ARRAY['day', 'days', 'd']),
      ('hour', ARRAY['hour', 'hours', 'h', 'hr', 'hrs']),
      ('minute', ARRAY['minute', 'minutes', 'm', 'min', 'mins']),
      ('second', ARRAY['second', 'seconds', 's', 'sec', 'secs']),
      ('millisecond', ARRAY['millisecond', 'milliseconds', 'ms', 'msec', 'msecs', 'msecond',
                            'mseconds', 'millisec', 'millisecs']),
      ('microsecond', ARRAY['microsecond', 'microseconds', 'us', 'usec', 'usecs', 'microsec',
                            'microsecs', 'usecond', 'useconds'])
    ) AS parts (canonical, names)
    WHERE lower(part) = ANY (names)
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

-- The aggregates take any type and join the values' text, as Redshift's implicit cast does.
CREATE OR REPLACE FUNCTION spectra_listagg_any_step(joined text, value anynonarray, delimiter text)
  RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra_listagg_step(joined, value::text, delimiter) $$;

CREATE OR REPLACE FUNCTION spectra_listagg_any_step(joined text, value anynonarray) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra_listagg_step(joined, value::text, '') $$;

CREATE OR REPLACE AGGREGATE listagg(anynonarray, text) (
  SFUNC = spectra_listagg_any_step,
  STYPE = text
);

CREATE OR REPLACE AGGREGATE listagg(anynonarray) (
  SFUNC = spectra_listagg_any_step,
  STYPE = text
);

-- ---------------------------------------------------------------------------------------------
-- What the dialect translator (dialect/translate.ts) sends calls to. Functions whose names
-- PostgreSQL uses with another meaning, or whose name is Redshift's default column name for a
-- construct (`date_add` for DATEADD, `pgdate_part` for DATE_PART, `timestamp` for SYSDATE), live
-- in the schema `spectra`, which only the translator's rewrites name. Everything else is in
-- public under Redshift's own name.
-- ---------------------------------------------------------------------------------------------

CREATE SCHEMA IF NOT EXISTS spectra;
GRANT USAGE ON SCHEMA spectra TO PUBLIC;

-- Runs `template` once for each row of `overloads`, its values in the template's %1$s, %2$s, ...:
-- one home for the body of a function that is the same for several types, where SQL cannot
-- write it once for all of them (PostgreSQL's own functions are overloaded per type).
CREATE OR REPLACE PROCEDURE spectra.create_overloads(template text, overloads text[])
  LANGUAGE plpgsql
  AS $$
  DECLARE
    overload text[];
  BEGIN
    FOREACH overload SLICE 1 IN ARRAY overloads LOOP
      EXECUTE format(template, VARIADIC overload);
    END LOOP;
  END
  $$;
-- A tool of this script's, not a function for tenants.
REVOKE EXECUTE ON PROCEDURE spectra.create_overloads(text, text[]) FROM PUBLIC;

-- A Redshift date part as PostgreSQL's EXTRACT field (`yrs` -> year, `dow` -> dow, ...).
CREATE OR REPLACE FUNCTION spectra.date_part_field(part text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT coalesce(spectra_date_part(part), CASE lower(part)
      WHEN 'dayofweek' THEN 'dow' WHEN 'dow' THEN 'dow' WHEN 'dw' THEN 'dow'
      WHEN 'weekday' THEN 'dow'
      WHEN 'dayofyear' THEN 'doy' WHEN 'doy' THEN 'doy' WHEN 'dy' THEN 'doy'
      WHEN 'yearday' THEN 'doy'
      WHEN 'epoch' THEN 'epoch'
      WHEN 'timezone' THEN 'timezone' WHEN 'tz' THEN 'timezone'
      WHEN 'timezone_hour' THEN 'timezone_hour' WHEN 'timezone_minute' THEN 'timezone_minute'
    END)
  $$;

CREATE OR REPLACE FUNCTION spectra.require_date_part(part text, function_name text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    field text := spectra.date_part_field(part);
  BEGIN
    IF field IS NULL THEN
      RAISE EXCEPTION '% is not a valid date part for %', part, function_name
        USING ERRCODE = '22023';
    END IF;
    RETURN field;
  END
  $$;

-- EXTRACT: an integer of the named part only (seconds without their fraction, milliseconds and
-- microseconds of the fraction only), as Redshift's EXTRACT on TIMESTAMP, TIME and TIMETZ.
CREATE OR REPLACE FUNCTION spectra.extract_part(field text, whole double precision,
    microseconds double precision) RETURNS integer
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT CASE field
      WHEN 'second' THEN floor(whole)::integer
      WHEN 'millisecond' THEN floor((microseconds::bigint % 1000000) / 1000)::integer
      WHEN 'microsecond' THEN (microseconds::bigint % 1000000)::integer
      ELSE floor(whole)::integer
    END
  $$;

CALL spectra.create_overloads($template$
  CREATE OR REPLACE FUNCTION spectra.date_part(part text, source %1$s) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT
    AS $$
      SELECT spectra.extract_part(f,
        CASE WHEN f IN ('millisecond', 'microsecond') THEN 0
             ELSE pg_catalog.date_part(f, source) END,
        pg_catalog.date_part('microseconds', source))
      FROM (SELECT spectra.require_date_part(part, 'EXTRACT') AS f) AS p
    $$
$template$, ARRAY[['timestamp'], ['time'], ['timetz']]);

CREATE OR REPLACE FUNCTION spectra.date_part(part text, source date) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.date_part(part, source::timestamp) $$;

-- On TIMESTAMPTZ Redshift's EXTRACT is a DOUBLE PRECISION.
CREATE OR REPLACE FUNCTION spectra.date_part(part text, source timestamptz)
  RETURNS double precision
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT pg_catalog.date_part(spectra.require_date_part(part, 'EXTRACT'), source) $$;

-- DATE_PART: a DOUBLE PRECISION; seconds keep their fraction, milliseconds and microseconds are
-- those of the fraction only.
CREATE OR REPLACE FUNCTION spectra.pgdate_part(part text, source timestamp)
  RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE f
      WHEN 'millisecond' THEN (pg_catalog.date_part('microseconds', source)::bigint % 1000000) / 1000.0
      WHEN 'microsecond' THEN (pg_catalog.date_part('microseconds', source)::bigint % 1000000)::double precision
      ELSE pg_catalog.date_part(f, source)
    END
    FROM (SELECT spectra.require_date_part(part, 'DATE_PART') AS f) AS p
  $$;

CREATE OR REPLACE FUNCTION spectra.pgdate_part(part text, source date) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.pgdate_part(part, source::timestamp) $$;

-- The type, and its volatility: a TIMESTAMPTZ's parts depend on the session's time zone.
CALL spectra.create_overloads($template$
  CREATE OR REPLACE FUNCTION spectra.pgdate_part(part text, source %1$s) RETURNS double precision
    LANGUAGE sql %2$s STRICT
    AS $$ SELECT pg_catalog.date_part(spectra.require_date_part(part, 'DATE_PART'), source) $$
$template$, ARRAY[['timestamptz', 'STABLE'], ['time', 'IMMUTABLE'], ['interval', 'IMMUTABLE']]);

-- The interval of `amount` date parts; years and longer are counted in months.
CREATE OR REPLACE FUNCTION spectra.date_part_interval(field text, amount bigint) RETURNS interval
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE field
      WHEN 'millennium' THEN make_interval(years => (amount * 1000)::int)
      WHEN 'century' THEN make_interval(years => (amount * 100)::int)
      WHEN 'decade' THEN make_interval(years => (amount * 10)::int)
      WHEN 'year' THEN make_interval(years => amount::int)
      WHEN 'quarter' THEN make_interval(months => (amount * 3)::int)
      WHEN 'month' THEN make_interval(months => amount::int)
      WHEN 'week' THEN make_interval(weeks => amount::int)
      WHEN 'day' THEN make_interval(days => amount::int)
      WHEN 'hour' THEN amount * interval '1 hour'
      WHEN 'minute' THEN amount * interval '1 minute'
      WHEN 'second' THEN amount * interval '1 second'
      WHEN 'millisecond' THEN amount * interval '1 millisecond'
      WHEN 'microsecond' THEN amount * interval '1 microsecond'
    END
  $$;

-- DATEADD: months clamp to the end of a shorter month (DATEADD(month, 12, '2016-02-29') is
-- 2017-02-28), but February 29 plus years that land on no leap year is March 1.
CREATE OR REPLACE FUNCTION spectra.date_add(part text, amount bigint, moment timestamp)
  RETURNS timestamp
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    field text := spectra.require_date_part(part, 'DATEADD');
    moved timestamp;
  BEGIN
    IF field NOT IN ('millennium', 'century', 'decade', 'year', 'quarter', 'month', 'week', 'day',
                     'hour', 'minute', 'second', 'millisecond', 'microsecond') THEN
      RAISE EXCEPTION '% is not a valid date part for DATEADD', part USING ERRCODE = '22023';
    END IF;
    moved := moment + spectra.date_part_interval(field, amount);
    IF field IN ('millennium', 'century', 'decade', 'year')
       AND extract(month FROM moment) = 2 AND extract(day FROM moment) = 29
       AND extract(day FROM moved) = 28 THEN
      moved := moved + interval '1 day';
    END IF;
    RETURN moved;
  END
  $$;

CREATE OR REPLACE FUNCTION spectra.date_add(part text, amount bigint, moment date)
  RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.date_add(part, amount, moment::timestamp) $$;

CALL spectra.create_overloads($template$
  CREATE OR REPLACE FUNCTION spectra.date_add(part text, amount bigint, moment %1$s) RETURNS %1$s
    LANGUAGE sql %2$s STRICT
    AS $$ SELECT moment + spectra.date_part_interval(spectra.require_date_part(part, 'DATEADD'), amount) $$
$template$, ARRAY[['timestamptz', 'STABLE'], ['time', 'IMMUTABLE'], ['timetz', 'IMMUTABLE']]);

-- DATEDIFF: how many part boundaries lie between the two values (see datediff above).
CREATE OR REPLACE FUNCTION spectra.date_diff(part text, start_at timestamp, end_at timestamp)
  RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT datediff(part, start_at, end_at) $$;

CREATE OR REPLACE FUNCTION spectra.date_diff(part text, start_at date, end_at date)
  RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT datediff(part, start_at::timestamp, end_at::timestamp) $$;

CREATE OR REPLACE FUNCTION spectra.date_diff(part text, start_at timestamptz, end_at timestamptz)
  RETURNS bigint
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT datediff(part, start_at AT TIME ZONE 'UTC', end_at AT TIME ZONE 'UTC') $$;

CREATE OR REPLACE FUNCTION spectra.date_diff(part text, start_at time, end_at time)
  RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT datediff(part, date '2000-01-01' + start_at, date '2000-01-01' + end_at) $$;

-- DATE_TRUNC with Redshift's date part names; on a DATE it gives a TIMESTAMP.
CALL spectra.create_overloads($template$
  CREATE OR REPLACE FUNCTION spectra.date_trunc(part text, moment %1$s) RETURNS %1$s
    LANGUAGE sql %2$s STRICT
    AS $$ SELECT pg_catalog.date_trunc(spectra.require_date_part(part, 'DATE_TRUNC'), moment) $$
$template$, ARRAY[['timestamp', 'IMMUTABLE'], ['timestamptz', 'STABLE'], ['interval', 'IMMUTABLE']]);

CREATE OR REPLACE FUNCTION spectra.date_trunc(part text, moment date) RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.date_trunc(part, moment::timestamp) $$;

-- SYSDATE: the start of the current transaction; Redshift names its column `timestamp`.
CREATE OR REPLACE FUNCTION spectra."timestamp"() RETURNS timestamp
  LANGUAGE sql STABLE
  AS $$ SELECT localtimestamp $$;

-- CONVERT_TIMEZONE([source,] target, timestamp): the source defaults to UTC.
CREATE OR REPLACE FUNCTION spectra.convert_timezone(source_zone text, target_zone text,
    moment timestamp) RETURNS timestamp
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT (moment AT TIME ZONE source_zone) AT TIME ZONE target_zone $$;

CREATE OR REPLACE FUNCTION spectra.convert_timezone(target_zone text, moment timestamp)
  RETURNS timestamp
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT (moment AT TIME ZONE 'UTC') AT TIME ZONE target_zone $$;

CREATE OR REPLACE FUNCTION spectra.convert_timezone(target_zone text, moment timestamptz)
  RETURNS timestamp
  LANGUAGE sql STABLE STRICT
  AS $$ SELECT moment AT TIME ZONE target_zone $$;

-- The database the Data API names: the local warehouse's one database is `dev`.
CREATE OR REPLACE FUNCTION spectra.current_database() RETURNS name
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT 'dev'::name $$;

CREATE OR REPLACE FUNCTION spectra.version() RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT 'PostgreSQL 8.0.2 on i686-pc-linux-gnu, compiled by GCC gcc (GCC) 3.4.2 20041017 (Red Hat 3.4.2-6.fc3), Redshift 1.0.77467 (Spectra local stack, on PostgreSQL ' || current_setting('server_version') || ')' $$;

-- PERCENTILE_CONT and MEDIAN: DECIMAL on integers and decimals, as Redshift's; DOUBLE PRECISION
-- on floating point. PostgreSQL's percentile_cont takes only double precision and interval.
CREATE OR REPLACE FUNCTION spectra.percentile_accumulate(numeric[], numeric) RETURNS numeric[]
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN $2 IS NULL THEN $1 ELSE array_append($1, $2) END $$;

CREATE OR REPLACE FUNCTION spectra.percentile_of(values_ numeric[], fraction double precision)
  RETURNS numeric
  LANGUAGE plpgsql IMMUTABLE
  AS $$
  DECLARE
    sorted numeric[];
    position_ double precision;
    low integer;
    high integer;
  BEGIN
    IF values_ IS NULL OR cardinality(values_) = 0 THEN RETURN NULL; END IF;
    IF fraction < 0 OR fraction > 1 THEN
      RAISE EXCEPTION 'percentile value % is not between 0 and 1', fraction USING ERRCODE = '22003';
    END IF;
    sorted := ARRAY(SELECT v FROM unnest(values_) AS v ORDER BY v);
    position_ := fraction * (cardinality(sorted) - 1);
    low := floor(position_)::integer + 1;
    high := ceil(position_)::integer + 1;
    RETURN sorted[low] + (position_ + 1 - low)::numeric * (sorted[high] - sorted[low]);
  END
  $$;

DO $$
DECLARE
  name_ text;
  pair text[];
BEGIN
  FOREACH name_ IN ARRAY ARRAY['percentile_cont', 'median'] LOOP
    -- Each ordered type, and what the aggregate returns for it.
    FOREACH pair SLICE 1 IN ARRAY ARRAY[
      ['smallint', 'numeric'], ['integer', 'numeric'], ['bigint', 'numeric'],
      ['numeric', 'numeric'], ['real', 'double precision'],
      ['double precision', 'double precision']] LOOP
      EXECUTE format(
        'CREATE OR REPLACE FUNCTION spectra.%1$s_final(numeric[], double precision, %2$s)
           RETURNS %3$s LANGUAGE sql IMMUTABLE
           AS $f$ SELECT spectra.percentile_of($1, $2)::%3$s $f$',
        name_, pair[1], pair[2]);
      EXECUTE format(
        'CREATE OR REPLACE FUNCTION spectra.%1$s_step(numeric[], %2$s) RETURNS numeric[]
           LANGUAGE sql IMMUTABLE AS $f$ SELECT spectra.percentile_accumulate($1, $2::numeric) $f$',
        name_, pair[1]);
      EXECUTE format('DROP AGGREGATE IF EXISTS spectra.%1$s(double precision ORDER BY %2$s)',
        name_, pair[1]);
      EXECUTE format(
        'CREATE AGGREGATE spectra.%1$s(double precision ORDER BY %2$s) (
           SFUNC = spectra.%1$s_step, STYPE = numeric[], INITCOND = ''{}'',
           FINALFUNC = spectra.%1$s_final, FINALFUNC_EXTRA)',
        name_, pair[1]);
    END LOOP;
  END LOOP;
END
$$;

-- RATIO_TO_REPORT(x) OVER (...): x over the sum of x in the window.
CREATE OR REPLACE FUNCTION spectra.ratio_to_report(value_ numeric, total numeric) RETURNS numeric
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT value_ / nullif(total, 0) $$;

CREATE OR REPLACE FUNCTION spectra.ratio_to_report(value_ double precision,
    total double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT value_ / nullif(total, 0) $$;

-- JSON_EXTRACT_PATH_TEXT(json string, path elements... [, null_if_invalid]).
CREATE OR REPLACE FUNCTION spectra.json_path_text(document text, path text[], null_if_invalid boolean)
  RETURNS text
  LANGUAGE plpgsql IMMUTABLE
  AS $$
  DECLARE
    parsed json;
  BEGIN
    BEGIN
      parsed := document::json;
    EXCEPTION WHEN invalid_text_representation THEN
      IF null_if_invalid THEN RETURN NULL; END IF;
      RAISE EXCEPTION 'JSON parsing error' USING ERRCODE = '22P02';
    END;
    RETURN coalesce(json_extract_path_text(parsed, VARIADIC path), '');
  END
  $$;

CREATE OR REPLACE FUNCTION spectra.json_extract_path_text(document text, VARIADIC path text[])
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra.json_path_text(document, path, false) $$;
CREATE OR REPLACE FUNCTION spectra.json_extract_path_text(document text, p1 text, null_if_invalid boolean)
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra.json_path_text(document, ARRAY[p1], null_if_invalid) $$;
CREATE OR REPLACE FUNCTION spectra.json_extract_path_text(document text, p1 text, p2 text, null_if_invalid boolean)
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra.json_path_text(document, ARRAY[p1, p2], null_if_invalid) $$;
CREATE OR REPLACE FUNCTION spectra.json_extract_path_text(document text, p1 text, p2 text, p3 text, null_if_invalid boolean)
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra.json_path_text(document, ARRAY[p1, p2, p3], null_if_invalid) $$;
CREATE OR REPLACE FUNCTION spectra.json_extract_path_text(document text, p1 text, p2 text, p3 text, p4 text, null_if_invalid boolean)
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT spectra.json_path_text(document, ARRAY[p1, p2, p3, p4], null_if_invalid) $$;

-- A quoted literal or a VARCHAR where a date or timestamp goes: Redshift reads it as a
-- TIMESTAMP. Without these, PostgreSQL would pick the TIMESTAMPTZ variant for a literal.
CREATE OR REPLACE FUNCTION spectra.date_add(part text, amount bigint, moment text) RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT spectra.date_add(part, amount, moment::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.date_diff(part text, start_at text, end_at text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT datediff(part, start_at::timestamp, end_at::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.date_part(part text, source text) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT spectra.date_part(part, source::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.pgdate_part(part text, source text) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT spectra.pgdate_part(part, source::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.date_trunc(part text, moment text) RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT spectra.date_trunc(part, moment::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.convert_timezone(source_zone text, target_zone text, moment text)
  RETURNS timestamp
  LANGUAGE sql STABLE STRICT AS $$ SELECT spectra.convert_timezone(source_zone, target_zone, moment::timestamp) $$;
CREATE OR REPLACE FUNCTION spectra.convert_timezone(target_zone text, moment text) RETURNS timestamp
  LANGUAGE sql STABLE STRICT AS $$ SELECT spectra.convert_timezone(target_zone, moment::timestamp) $$;

-- REGEXP_COUNT, REGEXP_INSTR, REGEXP_SUBSTR and REGEXP_REPLACE with Redshift's parameters:
-- 'p' (Perl dialect) needs no flag, PostgreSQL's advanced expressions have lookaheads; and
-- REGEXP_REPLACE replaces every match, where PostgreSQL's replaces the first unless told 'g'.
CREATE OR REPLACE FUNCTION spectra.regexp_flags(parameters text) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT replace(coalesce(parameters, ''), 'p', '') $$;

CREATE OR REPLACE FUNCTION spectra.regexp_count(source text, pattern text, position_ integer DEFAULT 1,
    parameters text DEFAULT '') RETURNS integer
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT pg_catalog.regexp_count(source, pattern, position_, spectra.regexp_flags(parameters)) $$;

CREATE OR REPLACE FUNCTION spectra.regexp_substr(source text, pattern text, position_ integer DEFAULT 1,
    occurrence integer DEFAULT 1, parameters text DEFAULT '') RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT coalesce(pg_catalog.regexp_substr(source, pattern, position_, occurrence,
                                                 spectra.regexp_flags(parameters)), '') $$;

CREATE OR REPLACE FUNCTION spectra.regexp_instr(source text, pattern text, position_ integer DEFAULT 1,
    occurrence integer DEFAULT 1, option_ integer DEFAULT 0, parameters text DEFAULT '') RETURNS integer
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT pg_catalog.regexp_instr(source, pattern, position_, occurrence, option_,
                                       spectra.regexp_flags(parameters)) $$;

CREATE OR REPLACE FUNCTION spectra.regexp_replace(source text, pattern text, replacement text DEFAULT '',
    position_ integer DEFAULT 1, parameters text DEFAULT '') RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$ SELECT pg_catalog.regexp_replace(source, pattern, replacement, position_, 0,
                                         spectra.regexp_flags(parameters)) $$;

-- DATE_PART_YEAR(date): the year, an integer.
CREATE OR REPLACE FUNCTION date_part_year(moment date) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT extract(year FROM moment)::integer $$;

-- --- Functions PostgreSQL lacks, under Redshift's names ---------------------------------------

-- TRUNC(timestamp): the date.
CREATE OR REPLACE FUNCTION trunc(moment timestamp) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT moment::date $$;

-- ADD_MONTHS: the last day of a month stays the last day of the result's month.
CREATE OR REPLACE FUNCTION add_months(moment timestamp, months bigint) RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT CASE
      WHEN moment::date = (date_trunc('month', moment) + interval '1 month - 1 day')::date
        THEN (date_trunc('month', moment + make_interval(months => months::int))
              + interval '1 month - 1 day')::date + moment::time
      ELSE moment + make_interval(months => months::int)
    END
  $$;

-- MONTHS_BETWEEN(d1, d2): whole months when the days match or both are month ends, otherwise
-- with a fraction of a 31-day month.
CREATE OR REPLACE FUNCTION months_between(d1 date, d2 date) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT
  AS $$
    SELECT ((extract(year FROM d1) - extract(year FROM d2)) * 12
            + extract(month FROM d1) - extract(month FROM d2))::double precision
      + CASE
          WHEN extract(day FROM d1) = extract(day FROM d2) THEN 0
          WHEN d1 = (date_trunc('month', d1) + interval '1 month - 1 day')::date
           AND d2 = (date_trunc('month', d2) + interval '1 month - 1 day')::date THEN 0
          ELSE (extract(day FROM d1) - extract(day FROM d2))::double precision / 31
        END
  $$;

CREATE OR REPLACE FUNCTION months_between(d1 text, d2 text) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT months_between(d1::date, d2::date) $$;

CREATE OR REPLACE FUNCTION last_day(moment date) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT (date_trunc('month', moment) + interval '1 month - 1 day')::date $$;

CREATE OR REPLACE FUNCTION add_months(moment text, months bigint) RETURNS timestamp
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT add_months(moment::timestamp, months) $$;

CREATE OR REPLACE FUNCTION last_day(moment text) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT last_day(moment::date) $$;

CREATE OR REPLACE FUNCTION last_day(moment timestamp) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT last_day(moment::date) $$;

-- NEXT_DAY(date, day name): the first such day after the date; the name may be abbreviated.
CREATE OR REPLACE FUNCTION next_day(moment date, day_name text) RETURNS date
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    names text[] := ARRAY['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
    wanted integer;
  BEGIN
    FOR i IN 1..7 LOOP
      IF length(day_name) >= 2 AND names[i] LIKE lower(btrim(day_name)) || '%' THEN
        wanted := i - 1;
      END IF;
    END LOOP;
    IF wanted IS NULL THEN
      RAISE EXCEPTION 'Invalid day name: %', day_name USING ERRCODE = '22023';
    END IF;
    RETURN moment + ((wanted - extract(dow FROM moment)::integer + 6) % 7 + 1);
  END
  $$;

CREATE OR REPLACE FUNCTION next_day(moment text, day_name text) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT next_day(moment::date, day_name) $$;

CREATE OR REPLACE FUNCTION next_day(moment timestamp, day_name text) RETURNS date
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT next_day(moment::date, day_name) $$;

-- CHARINDEX(substring, string): 1-based position, 0 when absent.
CREATE OR REPLACE FUNCTION charindex(needle text, haystack text) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT strpos(haystack, needle) $$;

CREATE OR REPLACE FUNCTION replicate(value_ text, times integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT repeat(value_, times) $$;

-- repeat() of a number: Redshift casts it to text implicitly.
CREATE OR REPLACE FUNCTION repeat(value_ bigint, times integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT repeat(value_::text, times) $$;

CREATE OR REPLACE FUNCTION ltrim(moment timestamp, characters text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT ltrim(moment::text, characters) $$;
CREATE OR REPLACE FUNCTION rtrim(moment timestamp, characters text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT rtrim(moment::text, characters) $$;

CREATE OR REPLACE FUNCTION split_part(moment timestamp, delimiter text, field integer) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT split_part(moment::text, delimiter, field) $$;

-- LIKE on a timestamp matches its text, as Redshift's implicit cast does.
CREATE OR REPLACE FUNCTION spectra.timestamp_like(moment timestamp, pattern text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT moment::text LIKE pattern $$;
CREATE OR REPLACE FUNCTION spectra.timestamp_not_like(moment timestamp, pattern text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT moment::text NOT LIKE pattern $$;
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
                 WHERE o.oprname = '~~' AND n.nspname = 'public'
                   AND o.oprleft = 'timestamp'::regtype) THEN
    CREATE OPERATOR public.~~ (LEFTARG = timestamp, RIGHTARG = text, FUNCTION = spectra.timestamp_like);
    CREATE OPERATOR public.!~~ (LEFTARG = timestamp, RIGHTARG = text, FUNCTION = spectra.timestamp_not_like);
  END IF;
END
$$;

-- STRTOL(string, base): the number the string spells in that base (2 to 36); `0x` may lead in base 16.
CREATE OR REPLACE FUNCTION strtol(digits text, base integer) RETURNS bigint
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    text_ text := lower(btrim(digits));
    negative boolean := false;
    result bigint := 0;
    digit integer;
  BEGIN
    IF base < 2 OR base > 36 THEN
      RAISE EXCEPTION 'The base must be from 2 to 36' USING ERRCODE = '22023';
    END IF;
    IF left(text_, 1) IN ('-', '+') THEN
      negative := left(text_, 1) = '-';
      text_ := substr(text_, 2);
    END IF;
    IF base = 16 AND left(text_, 2) = '0x' THEN text_ := substr(text_, 3); END IF;
    FOR i IN 1..length(text_) LOOP
      digit := strpos('0123456789abcdefghijklmnopqrstuvwxyz', substr(text_, i, 1)) - 1;
      EXIT WHEN digit < 0 OR digit >= base;
      result := result * base + digit;
    END LOOP;
    RETURN CASE WHEN negative THEN -result ELSE result END;
  END
  $$;

-- IS_VALID_JSON: a JSON object; IS_VALID_JSON_ARRAY: a JSON array.
CREATE OR REPLACE FUNCTION spectra.json_or_null(document text) RETURNS json
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  BEGIN
    RETURN document::json;
  EXCEPTION WHEN invalid_text_representation THEN
    RETURN NULL;
  END
  $$;

CREATE OR REPLACE FUNCTION is_valid_json(document text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT coalesce(json_typeof(spectra.json_or_null(document)) = 'object', false) $$;

CREATE OR REPLACE FUNCTION is_valid_json_array(document text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT coalesce(json_typeof(spectra.json_or_null(document)) = 'array', false) $$;

-- JSON_EXTRACT_ARRAY_ELEMENT_TEXT(json string, 0-based position [, null_if_invalid]).
CREATE OR REPLACE FUNCTION json_extract_array_element_text(document text, position_ integer,
    null_if_invalid boolean) RETURNS text
  LANGUAGE plpgsql IMMUTABLE
  AS $$
  DECLARE
    parsed json := spectra.json_or_null(document);
  BEGIN
    IF parsed IS NULL OR json_typeof(parsed) <> 'array' THEN
      IF null_if_invalid THEN RETURN NULL; END IF;
      RAISE EXCEPTION 'JSON parsing error' USING ERRCODE = '22P02';
    END IF;
    RETURN coalesce(parsed ->> position_, '');
  END
  $$;

CREATE OR REPLACE FUNCTION json_extract_array_element_text(document text, position_ integer)
  RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT json_extract_array_element_text(document, position_, false) $$;

CREATE OR REPLACE FUNCTION json_array_length(document text) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT json_array_length(document::json) $$;

-- SUPER values are jsonb here: JSON_PARSE, JSON_SERIALIZE, JSON_TYPEOF and the IS_ tests.
CREATE OR REPLACE FUNCTION json_parse(document text) RETURNS jsonb
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT document::jsonb $$;

CREATE OR REPLACE FUNCTION can_json_parse(document text) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.json_or_null(document) IS NOT NULL $$;

-- JSON_SERIALIZE is a keyword of PostgreSQL 17+, so the translator names spectra's.
-- A SUPER value's text as Redshift writes it: no spaces between the elements.
CREATE OR REPLACE FUNCTION spectra.compact_json(value_ jsonb) RETURNS text
  LANGUAGE plpgsql IMMUTABLE STRICT
  AS $$
  DECLARE
    source text := value_::text;
    out text := '';
    in_string boolean := false;
    escaped boolean := false;
    c text;
  BEGIN
    FOR i IN 1..length(source) LOOP
      c := substr(source, i, 1);
      IF in_string THEN
        out := out || c;
        IF escaped THEN escaped := false;
        ELSIF c = '\' THEN escaped := true;
        ELSIF c = '"' THEN in_string := false;
        END IF;
      ELSIF c = '"' THEN
        in_string := true;
        out := out || c;
      ELSIF c <> ' ' THEN
        out := out || c;
      END IF;
    END LOOP;
    RETURN out;
  END
  $$;

CREATE OR REPLACE FUNCTION spectra."json_serialize"(value_ jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT spectra.compact_json(value_) $$;

CREATE OR REPLACE FUNCTION json_typeof(value_ jsonb) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT jsonb_typeof(value_) $$;

-- JSON_SIZE: bytes of the value's serialization.
CREATE OR REPLACE FUNCTION json_size(value_ jsonb) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT octet_length(spectra.compact_json(value_)) $$;

CREATE OR REPLACE FUNCTION is_array(value_ jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT jsonb_typeof(value_) = 'array' $$;
CREATE OR REPLACE FUNCTION is_object(value_ jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT jsonb_typeof(value_) = 'object' $$;
CREATE OR REPLACE FUNCTION is_scalar(value_ jsonb) RETURNS boolean
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT jsonb_typeof(value_) NOT IN ('array', 'object') $$;
CREATE OR REPLACE FUNCTION get_array_length(value_ jsonb) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT jsonb_array_length(value_) $$;

-- TO_DATE(string, format, is_strict): without strictness an out-of-range day rolls over into
-- the next month (2001-06-31 is 2001-07-01), as Redshift's lenient TO_DATE does.
CREATE OR REPLACE FUNCTION to_date(value_ text, format text, is_strict boolean) RETURNS date
  LANGUAGE plpgsql STABLE STRICT
  AS $$
  DECLARE
    parts text[];
  BEGIN
    RETURN pg_catalog.to_date(value_, format);
  EXCEPTION WHEN datetime_field_overflow THEN
    IF is_strict OR format <> 'YYYYMMDD' THEN RAISE; END IF;
    parts := ARRAY[substr(value_, 1, 4), substr(value_, 5, 2), substr(value_, 7, 2)];
    RETURN make_date(parts[1]::int, parts[2]::int, 1) + (parts[3]::int - 1);
  END
  $$;

CREATE OR REPLACE FUNCTION interval_cmp(a interval, b interval) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT CASE WHEN a < b THEN -1 WHEN a > b THEN 1 ELSE 0 END $$;

CREATE OR REPLACE FUNCTION date_cmp(a date, b date) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT CASE WHEN a < b THEN -1 WHEN a > b THEN 1 ELSE 0 END $$;

CREATE OR REPLACE FUNCTION timestamp_cmp(a timestamp, b timestamp) RETURNS integer
  LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT CASE WHEN a < b THEN -1 WHEN a > b THEN 1 ELSE 0 END $$;

CREATE OR REPLACE FUNCTION dlog10(x double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT log(x) $$;
CREATE OR REPLACE FUNCTION dlog1(x double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT ln(x) $$;
CREATE OR REPLACE FUNCTION dexp(x double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT exp(x) $$;
CREATE OR REPLACE FUNCTION dpow(x double precision, y double precision) RETURNS double precision
  LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT power(x, y) $$;

-- --- Catalog views ------------------------------------------------------------------------------

-- What CREATE TABLE said of the physical layout (DISTSTYLE, DISTKEY, SORTKEY, ENCODE), recorded
-- by the translator's follow-up statement; a dropped table's row no longer matches any table.
CREATE TABLE IF NOT EXISTS spectra.table_attributes (
  relid oid PRIMARY KEY,
  diststyle text,
  distkey text,
  sortkey text[] NOT NULL DEFAULT '{}',
  sortkey_type text,
  encodings jsonb NOT NULL DEFAULT '{}'
);

CREATE OR REPLACE FUNCTION spectra.record_table_attributes(table_name text, diststyle_ text,
    distkey_ text, sortkey_ text[], sortkey_type_ text, encodings_ jsonb) RETURNS void
  LANGUAGE sql SECURITY DEFINER
  AS $$
    INSERT INTO spectra.table_attributes (relid, diststyle, distkey, sortkey, sortkey_type, encodings)
    VALUES (table_name::regclass::oid, diststyle_, distkey_, sortkey_, sortkey_type_, encodings_)
    ON CONFLICT (relid) DO UPDATE SET diststyle = EXCLUDED.diststyle, distkey = EXCLUDED.distkey,
      sortkey = EXCLUDED.sortkey, sortkey_type = EXCLUDED.sortkey_type, encodings = EXCLUDED.encodings
  $$;
GRANT EXECUTE ON FUNCTION spectra.record_table_attributes(text, text, text, text[], text, jsonb) TO PUBLIC;

-- The user tables the catalog views describe.
CREATE OR REPLACE VIEW spectra.user_tables AS
  SELECT c.oid AS relid, n.nspname AS schemaname, c.relname AS tablename, c.relkind,
         a.diststyle, a.distkey, coalesce(a.sortkey, '{}') AS sortkey, a.sortkey_type,
         coalesce(a.encodings, '{}') AS encodings
  FROM pg_catalog.pg_class AS c
  JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
  LEFT JOIN spectra.table_attributes AS a ON a.relid = c.oid
  WHERE c.relkind IN ('r', 'p', 'v', 'm')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'spectra')
    AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)';

-- The compression Redshift gives a column created without ENCODE.
CREATE OR REPLACE FUNCTION spectra.default_encoding(type_ oid, in_sortkey boolean) RETURNS text
  LANGUAGE sql IMMUTABLE
  AS $$
    SELECT CASE
      WHEN in_sortkey THEN 'none'
      WHEN type_ IN ('smallint'::regtype, 'integer'::regtype, 'bigint'::regtype, 'numeric'::regtype,
                     'date'::regtype, 'timestamp'::regtype, 'timestamptz'::regtype) THEN 'az64'
      WHEN type_ IN ('character'::regtype, 'character varying'::regtype, 'text'::regtype) THEN 'lzo'
      ELSE 'none'
    END
  $$;

-- PG_TABLE_DEF: the columns of the tables in the search path.
CREATE OR REPLACE VIEW spectra.pg_table_def AS
  SELECT t.schemaname::name AS schemaname, t.tablename::name AS tablename, att.attname AS "column",
         pg_catalog.format_type(att.atttypid, att.atttypmod)::text AS type,
         coalesce(t.encodings ->> att.attname,
                  spectra.default_encoding(att.atttypid, att.attname = ANY (t.sortkey)))::character varying(32) AS encoding,
         coalesce(att.attname = t.distkey, false) AS distkey,
         -- An interleaved sort key's positions alternate in sign, as Redshift shows them.
         (coalesce(array_position(t.sortkey, att.attname::text), 0)
          * CASE WHEN t.sortkey_type = 'interleaved'
                  AND array_position(t.sortkey, att.attname::text) % 2 = 1 THEN -1 ELSE 1 END
         )::integer AS sortkey,
         att.attnotnull AS notnull
  FROM spectra.user_tables AS t
  JOIN pg_catalog.pg_attribute AS att ON att.attrelid = t.relid
  WHERE att.attnum > 0 AND NOT att.attisdropped AND t.relkind IN ('r', 'p')
    AND pg_catalog.pg_table_is_visible(t.relid);

CREATE OR REPLACE FUNCTION spectra.row_count(relid oid) RETURNS bigint
  LANGUAGE plpgsql STABLE
  AS $$
  DECLARE
    counted bigint;
  BEGIN
    EXECUTE format('SELECT count(*) FROM %s', relid::regclass) INTO counted;
    RETURN counted;
  EXCEPTION WHEN insufficient_privilege THEN
    RETURN NULL;
  END
  $$;

-- SVV_TABLE_INFO: one row per user table that holds rows.
CREATE OR REPLACE VIEW spectra.svv_table_info AS
  SELECT * FROM (
    SELECT 'dev'::text AS database, t.schemaname::text AS schema, t.relid::integer AS table_id,
           t.tablename::text AS "table",
           CASE WHEN t.encodings <> '{}' THEN 'Y' ELSE 'N' END::char(1) AS encoded,
           CASE lower(coalesce(t.diststyle, CASE WHEN t.distkey IS NOT NULL THEN 'key' END, 'auto'))
             WHEN 'key' THEN 'KEY(' || t.distkey || ')'
             WHEN 'even' THEN 'EVEN'
             WHEN 'all' THEN 'ALL'
             ELSE 'AUTO(ALL)'
           END::text AS diststyle,
           t.sortkey[1]::text AS sortkey1,
           cardinality(t.sortkey)::integer AS sortkey_num,
           (SELECT max(a.atttypmod - 4) FROM pg_catalog.pg_attribute AS a
             WHERE a.attrelid = t.relid AND a.atttypid = 'character varying'::regtype)::integer AS max_varchar,
           ceil(pg_catalog.pg_total_relation_size(t.relid) / 1048576.0)::bigint AS size,
           spectra.row_count(t.relid)::numeric(38, 0) AS tbl_rows,
           spectra.row_count(t.relid)::numeric(38, 0) AS estimated_visible_rows,
           0::numeric(5, 2) AS unsorted, 0::numeric(5, 2) AS stats_off
    FROM spectra.user_tables AS t
    WHERE t.relkind IN ('r', 'p')
  ) AS info
  WHERE tbl_rows > 0;

-- SVV_COLUMNS and SVV_TABLES: information_schema's columns and tables, in the `dev` database.
CREATE OR REPLACE VIEW spectra.svv_columns AS
  SELECT 'dev'::text AS catalog_name, c.table_schema::text AS schema_name,
         c.table_name::text AS table_name, c.column_name::text AS column_name,
         c.ordinal_position::integer AS ordinal_position, c.column_default::text AS column_default,
         c.is_nullable::text AS is_nullable, c.data_type::text AS data_type,
         c.character_maximum_length::integer AS character_maximum_length,
         c.numeric_precision::integer AS numeric_precision,
         c.numeric_precision_radix::integer AS numeric_precision_radix,
         c.numeric_scale::integer AS numeric_scale, c.datetime_precision::integer AS datetime_precision,
         c.interval_type::text AS interval_type, c.interval_precision::text AS interval_precision,
         NULL::text AS character_set_catalog, NULL::text AS character_set_schema,
         NULL::text AS character_set_name, NULL::text AS collation_catalog,
         NULL::text AS collation_schema, NULL::text AS collation_name,
         NULL::text AS domain_name, NULL::text AS remarks
  FROM information_schema.columns AS c
  WHERE c.table_schema NOT IN ('spectra');

CREATE OR REPLACE VIEW spectra.svv_tables AS
  SELECT 'dev'::text AS table_catalog, t.table_schema::text AS table_schema,
         t.table_name::text AS table_name, t.table_type::text AS table_type, NULL::text AS remarks
  FROM information_schema.tables AS t
  WHERE t.table_schema NOT IN ('spectra');

-- STV_SESSIONS: the backends of the local engine (PGlite has one for every Data API session).
CREATE OR REPLACE VIEW spectra.stv_sessions AS
  SELECT a.backend_start::timestamp AS starttime, a.pid AS process,
         a.usename::char(50) AS user_name, 'dev'::char(50) AS db_name, 0 AS timeout_sec
  FROM pg_catalog.pg_stat_activity AS a
  WHERE a.backend_type = 'client backend'
  UNION ALL
  -- PGlite lists no backend: its one backend is the session asking.
  SELECT pg_catalog.pg_postmaster_start_time()::timestamp, pg_catalog.pg_backend_pid(),
         current_user::char(50), 'dev'::char(50), 0
  WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity WHERE backend_type = 'client backend');

GRANT SELECT ON spectra.user_tables, spectra.pg_table_def, spectra.svv_table_info,
  spectra.svv_columns, spectra.svv_tables, spectra.stv_sessions TO PUBLIC;
GRANT SELECT ON spectra.table_attributes TO PUBLIC;
