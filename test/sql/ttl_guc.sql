-- The TTL parameters: defaults, units, limits, and who may change them when.
-- (The regression cluster sets agentstore.ttl_interval = '1h' in its
-- configuration file; every other one is at its default here.)

SELECT name, setting, unit, context, vartype, min_val, max_val, boot_val
  FROM pg_settings
 WHERE name IN ('agentstore.ttl_interval', 'agentstore.ttl_batch_size',
                'agentstore.ttl_max_workers', 'agentstore.ttl_batch_delay',
                'agentstore.soft_delete',
                'agentstore.ttl_purge_after', 'agentstore.session_ttl',
                'agentstore.track_event_ttl', 'agentstore.app_state_ttl',
                'agentstore.user_state_ttl', 'agentstore.checkpoint_ttl')
 ORDER BY name;

-- Set in the configuration file only (the launcher reads them); a reload
-- applies them.
SET agentstore.ttl_interval = '10s';
SET agentstore.ttl_max_workers = 4;
SELECT current_database() AS ttl_guc_db \gset
ALTER DATABASE :"ttl_guc_db" SET agentstore.ttl_interval = '10s';

-- Superuser-only: per session, per database or per role (the worker of
-- that database applies ALTER DATABASE settings at its next pass).
ALTER DATABASE :"ttl_guc_db" SET agentstore.ttl_batch_size = 200;
ALTER DATABASE :"ttl_guc_db" RESET agentstore.ttl_batch_size;

-- The worker's pause between two transactions of a pass, in ms.
SET agentstore.ttl_batch_delay = '1s';
SHOW agentstore.ttl_batch_delay;
SET agentstore.ttl_batch_delay = 0;
SHOW agentstore.ttl_batch_delay;
SET agentstore.ttl_batch_delay = -1;
SET agentstore.ttl_batch_delay = '11s';
RESET agentstore.ttl_batch_delay;
SET agentstore.ttl_batch_size = 500;
SHOW agentstore.ttl_batch_size;
SET agentstore.ttl_batch_size = 0;
SET agentstore.ttl_batch_size = 1000001;
SET agentstore.ttl_batch_size = 'many';
RESET agentstore.ttl_batch_size;

SET agentstore.soft_delete = off;
SHOW agentstore.soft_delete;
SET agentstore.soft_delete = 'sometimes';
RESET agentstore.soft_delete;

-- -1 keeps soft-deleted rows forever; units as for any duration.
SET agentstore.ttl_purge_after = -1;
SHOW agentstore.ttl_purge_after;
SET agentstore.ttl_purge_after = '3d';
SHOW agentstore.ttl_purge_after;
SET agentstore.ttl_purge_after = 0;
SHOW agentstore.ttl_purge_after;
SET agentstore.ttl_purge_after = -2;
SET agentstore.ttl_purge_after = '1 fortnight';
RESET agentstore.ttl_purge_after;

-- Default TTLs per kind: seconds or any time unit; 0 = never; no negatives.
SET agentstore.session_ttl = '30min';
SHOW agentstore.session_ttl;
SET agentstore.session_ttl = 90;
SHOW agentstore.session_ttl;
SET agentstore.session_ttl = '1500ms';
SHOW agentstore.session_ttl;
SET agentstore.session_ttl = -1;
SET agentstore.session_ttl = '30 parsecs';
SET agentstore.track_event_ttl = '1h';
SHOW agentstore.track_event_ttl;
SET agentstore.track_event_ttl = -1;
SET agentstore.app_state_ttl = '1d';
SHOW agentstore.app_state_ttl;
SET agentstore.app_state_ttl = -1;
SET agentstore.user_state_ttl = '7d';
SHOW agentstore.user_state_ttl;
SET agentstore.user_state_ttl = -1;
SET agentstore.checkpoint_ttl = '2h';
SHOW agentstore.checkpoint_ttl;
SET agentstore.checkpoint_ttl = -1;
SET agentstore.checkpoint_ttl = 2147483648;
RESET ALL;

-- An ordinary role may set the default TTLs, but not how the worker
-- deletes, nor its schedule.
CREATE ROLE ttl_guc_user;
SET ROLE ttl_guc_user;
SET agentstore.session_ttl = '1h';
SHOW agentstore.session_ttl;
SET agentstore.soft_delete = off;
SET agentstore.ttl_batch_size = 10;
SET agentstore.ttl_batch_delay = 0;
SET agentstore.ttl_purge_after = 0;
SET agentstore.ttl_interval = 1;
RESET ROLE;
RESET ALL;
DROP ROLE ttl_guc_user;

-- A misspelt name under the prefix is an error, not a new variable.
SET agentstore.ttl_intervall = '1s';

-- Every parameter's descriptions, as pg_settings and SHOW ALL read them in
-- any backend long after the library was loaded (they must not point to
-- memory that was freed since).
SELECT name, short_desc, extra_desc FROM pg_settings
 WHERE name LIKE 'agentstore.%' ORDER BY name;
