-- Baseline tables of the event-stream benchmarks (bench/scenarios/2N_streams_*.sh):
-- the same columns, constraints, defaults and indexes as agentstore.events,
--   bench.events_plain    without any version logic: version comes from a
--                         sequence (a ceiling, not a correct event store);
--   bench.events_plpgsql  with a gap-free version trigger in PL/pgSQL,
--                         eventcore's design: per row, a transaction
--                         advisory lock on the stream, the current version
--                         from the primary key, the expectation check from a
--                         session setting, version = current + 1.
SET client_min_messages = warning;
DROP TABLE IF EXISTS bench.events_plain, bench.events_plpgsql;
DROP SEQUENCE IF EXISTS bench.plain_version;
DROP FUNCTION IF EXISTS bench.plpgsql_version();

CREATE SEQUENCE bench.plain_version;
CREATE TABLE bench.events_plain
    (LIKE agentstore.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
ALTER TABLE bench.events_plain ALTER version SET DEFAULT nextval('bench.plain_version');

CREATE TABLE bench.events_plpgsql
    (LIKE agentstore.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
CREATE FUNCTION bench.plpgsql_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    current_version bigint;
    expected jsonb;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(NEW.stream, 0));
    SELECT coalesce((SELECT version FROM bench.events_plpgsql
                      WHERE stream = NEW.stream ORDER BY version DESC LIMIT 1), 0)
      INTO current_version;
    expected := nullif(current_setting('bench.expected_versions', true), '')::jsonb;
    IF expected ? NEW.stream AND (expected ->> NEW.stream)::bigint <> current_version THEN
        RAISE EXCEPTION 'version conflict on stream %', NEW.stream;
    END IF;
    NEW.version := current_version + 1;
    RETURN NEW;
END $$;
CREATE TRIGGER version BEFORE INSERT ON bench.events_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.plpgsql_version();
