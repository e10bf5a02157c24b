-- list_sessions' page tokens are signed with a key that no SQL role can
-- compute: a token signed with the cluster's system identifier and the
-- database OID (both readable by any role) is refused (22023); genuine
-- tokens still work.
SET client_min_messages = warning;
SET timezone = 'UTC';

SELECT inserted FROM agentstore.upsert_sessions('[
  {"session_id": "s1", "user_id": "u", "updated_at": "2026-01-01T00:00:01Z"},
  {"session_id": "s2", "user_id": "u", "updated_at": "2026-01-01T00:00:02Z"},
  {"session_id": "s3", "user_id": "u", "updated_at": "2026-01-01T00:00:03Z"},
  {"session_id": "s4", "user_id": "u", "updated_at": "2026-01-01T00:00:04Z"}
]'::jsonb, true, 'tok');

-- HMAC-SHA-256 (RFC 2104) with what any role can read
CREATE FUNCTION pg_temp.hmac_sha256(key bytea, msg bytea) RETURNS bytea LANGUAGE plpgsql AS $$
DECLARE
	k bytea := key;
	ipad bytea;
	opad bytea;
BEGIN
	IF length(k) > 64 THEN
		k := sha256(k);
	END IF;
	k := k || decode(repeat('00', 64 - length(k)), 'hex');
	ipad := k;
	opad := k;
	FOR i IN 0..63 LOOP
		ipad := set_byte(ipad, i, get_byte(k, i) # 54);
		opad := set_byte(opad, i, get_byte(k, i) # 92);
	END LOOP;
	RETURN sha256(opad || sha256(ipad || msg));
END $$;
-- a page token for the position (updated_at, id) of the listing
-- (app_name, user_id), signed with the old key
CREATE FUNCTION pg_temp.forge(ts timestamptz, id bigint, app text, usr text) RETURNS text
LANGUAGE sql AS $$
	WITH k AS (
		SELECT convert_to(format('agentstore page token %s %s',
		                         (SELECT system_identifier FROM pg_control_system()),
		                         (SELECT oid FROM pg_database WHERE datname = current_database())),
		                  'UTF8') AS key,
		       '\x01'::bytea
		       || int8send(((extract(epoch FROM ts) - 946684800) * 1000000)::bigint)
		       || int8send(id) AS payload
	)
	SELECT translate(rtrim(encode(payload || substring(pg_temp.hmac_sha256(key,
	           payload || convert_to(app, 'UTF8') || '\x00'::bytea
	           || CASE WHEN usr IS NULL THEN '\x00'::bytea
	                   ELSE '\x01'::bytea || convert_to(usr, 'UTF8') END) FROM 1 FOR 16),
	                         'base64'), '='), '+/', '-_')
	  FROM k
$$;

-- a genuine token still works
CREATE TEMP TABLE p1 AS SELECT agentstore.list_sessions('tok', 'u', 2) AS page;
SELECT jsonb_path_query_array(page, '$.sessions[*].session_id') AS first_page FROM p1;
SELECT jsonb_path_query_array(agentstore.list_sessions('tok', 'u', 2, page->>'next_page_token'),
                              '$.sessions[*].session_id') AS second_page
  FROM p1;
-- the same for the whole app
CREATE TEMP TABLE p2 AS SELECT agentstore.list_sessions('tok', NULL, 3) AS page;
SELECT jsonb_path_query_array(agentstore.list_sessions('tok', NULL, 3, page->>'next_page_token'),
                              '$.sessions[*].session_id') AS second_page
  FROM p2;

-- the forger computes the genuine token's position but not its signature
SELECT pg_temp.forge(s.updated_at, s.id, 'tok', 'u') = (p1.page->>'next_page_token') AS forged_equals_genuine
  FROM p1, agentstore.sessions s
 WHERE s.app_name = 'tok' AND s.session_id = 's3';
-- forged tokens are refused (22023): a position of the forger's choice, for
-- a user and for the whole app
CREATE FUNCTION pg_temp.try_page(usr text, token text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	RETURN jsonb_path_query_array(agentstore.list_sessions('tok', usr, 2, token),
	                              '$.sessions[*].session_id')::text;
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ' ' || SQLERRM;
END $$;
SELECT pg_temp.try_page('u', pg_temp.forge('2030-01-01', 9223372036854775807, 'tok', 'u')) AS forged;
SELECT pg_temp.try_page(NULL, pg_temp.forge('2030-01-01', 9223372036854775807, 'tok', NULL)) AS forged;
SELECT pg_temp.try_page('u', page->>'next_page_token') AS genuine FROM p1;
SELECT agentstore.list_sessions('tok', 'u', 2,
                                pg_temp.forge('2026-01-01 00:00:03Z', 1, 'tok', 'u'));

DELETE FROM agentstore.sessions WHERE app_name = 'tok';
