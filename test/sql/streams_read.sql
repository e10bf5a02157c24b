-- read_stream, read_all, read_category, stream_version: order, cursors,
-- filters, consumer groups and every error path.  read_all sees every
-- stream, so this file works in a database of its own.
SET client_min_messages = warning;
CREATE DATABASE agentstore_streams_read;
\c agentstore_streams_read
SET client_min_messages = warning;
CREATE EXTENSION agentstore;
\set SHOW_CONTEXT never

-- Three transactions: order-1 (3 events), order-2 and user-1 together, then
-- a plain INSERT, a soft-deleted and an expired event.
SELECT first_version, last_version FROM agentstore.append_events('order-1', '[
  {"type": "created", "event_id": "o1-a", "data": {"n": 1}, "metadata": {"m": true}},
  {"type": "paid", "data": {"n": 2}},
  {"type": "shipped", "data": {"n": 3}}]');
SELECT stream, first_version, last_version FROM agentstore.append_streams('[
  {"stream": "order-2", "events": [{"type": "created"}, {"type": "paid"}]},
  {"stream": "user-1", "events": [{"type": "registered"}]}]');
INSERT INTO agentstore.events (stream, type) VALUES ('order', 'no dash'), ('order-1', 'closed');
SELECT first_version FROM agentstore.append_events('order-3', '[
  {"type": "deleted later"}, {"type": "expired", "expires_at": "2000-01-01"}, {"type": "kept"}]');
UPDATE agentstore.events SET deleted_at = now() WHERE stream = 'order-3' AND version = 1;

-- read_stream: version order, from a version, at most max_count.
SELECT stream, version, event_id, type, data, metadata, expires_at
  FROM agentstore.read_stream('order-1');
SELECT version, type FROM agentstore.read_stream('order-1', 2, 2);
SELECT version, type FROM agentstore.read_stream('order-1', 0, 1);
SELECT version, type FROM agentstore.read_stream('order-1', 5);
SELECT version, type FROM agentstore.read_stream('nothing-here');
-- soft-deleted and expired events are not returned; versions keep their holes
SELECT version, type FROM agentstore.read_stream('order-3');
-- named arguments
SELECT count(*) FROM agentstore.read_stream(stream => 'order-1', max_count => 2);

-- stream_version counts every event, deleted or not; 0 for no stream.
SELECT agentstore.stream_version('order-1') AS order_1,
       agentstore.stream_version('order-3') AS order_3,
       agentstore.stream_version('nothing-here') AS nothing;
-- it is the version to pass as the expectation of the next append
SELECT first_version FROM agentstore.append_events('order-4', '[{}]',
  agentstore.stream_version('order-4'));

-- read_all: commit order, (transaction_id, position), one transaction's
-- events together.
CREATE TEMP TABLE seen AS
SELECT row_number() OVER () AS n, * FROM agentstore.read_all();
SELECT n, stream, version, type,
       dense_rank() OVER (ORDER BY transaction_id) AS transaction
  FROM seen ORDER BY n;
SELECT bool_and(ok) AS ordered FROM (
  SELECT (transaction_id, position) > (lag(transaction_id) OVER w, lag(position) OVER w) AS ok
    FROM seen WINDOW w AS (ORDER BY n)) s WHERE ok IS NOT NULL;
-- Paging with the full cursor returns the same sequence.
SELECT transaction_id AS t, position AS p FROM seen WHERE n = 3 \gset
SELECT stream, version FROM agentstore.read_all(:p, 3, :'t');
-- ... and with the position alone (its transaction is looked up).
SELECT stream, version FROM agentstore.read_all(:p, 3);
SELECT stream, version FROM agentstore.read_all(after_position => :p, max_count => 3);
-- A position whose event is gone needs the transaction id.
SELECT position AS gone FROM agentstore.events WHERE stream = 'order-3' AND version = 1 \gset
DELETE FROM agentstore.events WHERE stream = 'order-3' AND version = 1;
SELECT * FROM agentstore.read_all(:gone, 10);
SELECT transaction_id AS gone_t FROM seen WHERE stream = 'order-3' AND version = 3 \gset
SELECT stream, version FROM agentstore.read_all(:gone, 10, :'gone_t');
-- Events of a transaction still running (even our own) are not returned.
BEGIN;
SELECT first_version FROM agentstore.append_events('order-5', '[{}]');
SELECT count(*) AS own_uncommitted FROM agentstore.read_all(0, 100) WHERE stream = 'order-5';
COMMIT;
SELECT count(*) AS committed FROM agentstore.read_all(0, 100) WHERE stream = 'order-5';

-- read_category: the streams whose name before the first '-' is the
-- category (a name without '-' is its own category), in commit order.
SELECT stream, version, type FROM agentstore.read_category('order');
SELECT stream, version, type FROM agentstore.read_category('user');
SELECT stream, version, type FROM agentstore.read_category('ord');
-- cursor
SELECT transaction_id AS t, position AS p FROM agentstore.read_category('order', 0, 2) OFFSET 1 \gset
SELECT stream, version FROM agentstore.read_category('order', :p, 2, after_transaction_id => :'t');
SELECT stream, version FROM agentstore.read_category('order', :p, 2);
-- Consumer groups: every stream goes to exactly one member, always the
-- same, and every member gets some.
SELECT count(*) AS appends
  FROM generate_series(10, 29) g, LATERAL agentstore.append_events('order-' || g, '[{}, {}]');
SELECT count(*) AS events, count(DISTINCT stream) AS streams
  FROM agentstore.read_category('order', 0, 1000);
SELECT count(*) AS events, count(DISTINCT stream) AS streams, count(DISTINCT m) AS members
  FROM generate_series(0, 2) m, LATERAL agentstore.read_category('order', 0, 1000, m, 3);
SELECT count(*) AS streams_in_two_members FROM (
  SELECT stream FROM generate_series(0, 2) m, LATERAL agentstore.read_category('order', 0, 1000, m, 3)
   GROUP BY stream HAVING count(DISTINCT m) > 1) s;
SELECT count(*) AS misplaced
  FROM generate_series(0, 2) m, LATERAL agentstore.read_category('order', 0, 1000, m, 3)
 WHERE abs(hashtextextended(stream, 0) % 3) <> m;
SELECT count(*) AS one_member_is_everything
  FROM agentstore.read_category('order', 0, 1000, 0, 1);

-- Errors.
SELECT * FROM agentstore.read_stream(NULL);
SELECT * FROM agentstore.read_stream('order-1', NULL);
SELECT * FROM agentstore.read_stream('order-1', -1);
SELECT * FROM agentstore.read_stream('order-1', 1, 0);
SELECT * FROM agentstore.read_stream('order-1', 1, -5);
SELECT * FROM agentstore.read_stream('order-1', 1, 10001);
SELECT * FROM agentstore.read_stream('order-1', 1, NULL);
SELECT count(*) FROM agentstore.read_stream('order-1', 1, 10000);
SELECT * FROM agentstore.read_all(NULL);
SELECT * FROM agentstore.read_all(-1);
SELECT * FROM agentstore.read_all(0, 0);
SELECT * FROM agentstore.read_all(0, 2147483647);
SELECT * FROM agentstore.read_all(0, NULL);
SELECT * FROM agentstore.read_all(999999999, 10);
SELECT * FROM agentstore.read_category(NULL);
SELECT * FROM agentstore.read_category('');
SELECT * FROM agentstore.read_category('order-1');
SELECT * FROM agentstore.read_category('order', NULL);
SELECT * FROM agentstore.read_category('order', 0, 0);
SELECT * FROM agentstore.read_category('order', 0, 10, 0);
SELECT * FROM agentstore.read_category('order', 0, 10, NULL, 2);
SELECT * FROM agentstore.read_category('order', 0, 10, 2, 2);
SELECT * FROM agentstore.read_category('order', 0, 10, -1, 2);
SELECT * FROM agentstore.read_category('order', 0, 10, 0, 0);
SELECT agentstore.stream_version(NULL);

\c regression
DROP DATABASE agentstore_streams_read;
