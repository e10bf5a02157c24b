-- Results of the session functions are built outside SPI's memory.
SET client_min_messages = warning;
-- The result row is built after SPI_finish (it was built in SPI's memory
-- and read after that memory was freed: a large state crashed the server,
-- a small one read wiped memory on an assert-enabled server).
SELECT length((r).state->>'k') AS state_length, (r).session_id, (r).created
  FROM (SELECT agentstore.create_session('sr-app', 'u1', 'big-create',
                   jsonb_build_object('k', repeat('x', 1000000))) AS r) x;
SELECT length((r).state->>'k') AS state_length, (r).session_id, (r).created
  FROM (SELECT agentstore.get_or_create_session('sr-app', 'u1', 'big-goc',
                   jsonb_build_object('k', repeat('y', 1000000))) AS r) x;
SELECT length((r).state->>'k') AS state_length, (r).session_id, (r).created
  FROM (SELECT agentstore.get_or_create_session('sr-app', 'u1', 'big-goc') AS r) x;
SELECT (r).app_name, (r).user_id, (r).session_id, (r).state, (r).created
  FROM (SELECT agentstore.create_session('sr-app', 'u1', 'small-create', '{"a": 1}') AS r) x;

