-- The trigger functions of agentstore.session_import run only as the
-- triggers of that view: attached to any other relation, or with another
-- timing or level, they refuse to run (39P01) before reading the row.
SET client_min_messages = warning;

-- 15 int columns, the count of session_import's columns
CREATE TEMP VIEW ints AS
SELECT 1::int a1, 2::int a2, 3::int a3, 4::int a4, 5::int a5, 6::int a6, 7::int a7, 8::int a8,
       9::int a9, 10::int a10, 11::int a11, 12::int a12, 13::int a13, 14::int a14, 15::int a15
 WHERE false;
CREATE TRIGGER t INSTEAD OF INSERT ON ints
	FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO ints VALUES (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);

-- 15 text columns
CREATE TEMP VIEW texts AS
SELECT ''::text a1, ''::text a2, ''::text a3, ''::text a4, ''::text a5, ''::text a6, ''::text a7,
       ''::text a8, ''::text a9, ''::text a10, ''::text a11, ''::text a12, ''::text a13,
       ''::text a14, ''::text a15
 WHERE false;
CREATE TRIGGER t INSTEAD OF INSERT ON texts
	FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO texts VALUES ('guard', 's', 'u', NULL, NULL, NULL, NULL, '{}', '{}', '{}', '{}', '{}',
                          'not a time', 'nor this', 'true');

-- the view's own row type, on another view
CREATE TEMP VIEW lookalike AS SELECT * FROM agentstore.session_import;
CREATE TRIGGER t INSTEAD OF INSERT ON lookalike
	FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO lookalike (app_name, session_id, user_id) VALUES ('guard', 's', 'u');

-- the statement triggers, on another view
CREATE TRIGGER b BEFORE INSERT ON texts
	FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_begin();
INSERT INTO texts SELECT * FROM texts;
DROP TRIGGER b ON texts;
CREATE TRIGGER f AFTER INSERT ON texts
	FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_flush();
INSERT INTO texts SELECT * FROM texts;

-- on a table, as a BEFORE row trigger
CREATE TEMP TABLE tab (a1 int);
CREATE TRIGGER t BEFORE INSERT ON tab FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO tab VALUES (1);
DROP TRIGGER t ON tab;
CREATE TRIGGER t AFTER INSERT ON tab FOR EACH ROW EXECUTE FUNCTION agentstore.session_import_flush();
INSERT INTO tab VALUES (1);

-- on the view itself, with another timing or level (only its owner can
-- add triggers to it)
BEGIN;
CREATE TRIGGER wrong AFTER INSERT ON agentstore.session_import
	FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_row();
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('guard', 's', 'u');
ROLLBACK;
BEGIN;
CREATE TRIGGER wrong BEFORE INSERT ON agentstore.session_import
	FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_flush();
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('guard', 's', 'u');
ROLLBACK;
BEGIN;
CREATE TRIGGER wrong AFTER INSERT ON agentstore.session_import
	FOR EACH STATEMENT EXECUTE FUNCTION agentstore.session_import_begin();
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('guard', 's', 'u');
ROLLBACK;
-- the row trigger without the statement's frame
BEGIN;
DROP TRIGGER session_import_begin ON agentstore.session_import;
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('guard', 's', 'u');
ROLLBACK;

-- not as a trigger
SELECT agentstore.session_import_row();
SELECT agentstore.session_import_begin();
SELECT agentstore.session_import_flush();

-- nothing was written, and the view still works
SELECT count(*) FROM agentstore.sessions WHERE app_name = 'guard';
INSERT INTO agentstore.session_import (app_name, session_id, user_id) VALUES ('guard', 's', 'u');
SELECT * FROM agentstore.session_import_result();
DELETE FROM agentstore.sessions WHERE app_name = 'guard';
