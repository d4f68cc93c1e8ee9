-- NCY_8 deterministic sample data.
--   psql -v ON_ERROR_STOP=1 -v rows=N -f sample-data.sql      (on a database loaded with schema.sql)
--
-- `rows` = exact number of rows in the main fact table "Task", spread round-robin over the 3 organizations
-- (task i belongs to a project of organization ((i-1) % 3) + 1). No randomness: ids are md5(<key>)::uuid.
--
-- Tenants ("Organization"."id"):
--   org 1 = md5('ncy8:organization:1')::uuid = '0ff14351-9005-caeb-955b-2d0f3340ce7a'  slug 'acme-labs'
--   org 2 = md5('ncy8:organization:2')::uuid = '324e5b92-71de-ac07-4e21-5b7f96e109ba'  slug 'zoe-studio'
--   org 3 = md5('ncy8:organization:3')::uuid = '00ab654a-6b2a-b143-1a96-71146cc4b686'  slug 'tokyo-devs'
-- Other ids:
--   "User"      : md5('ncy8:user:<u>')  u = 1..30 belong to org ((u-1) % 3) + 1 (user c owns org c);
--                 user 1 is ALSO a MEMBER of org 2 (cross-tenant user); user 30's membership is soft-deleted;
--                 u = 31 (SYSTEM) and u = 32 (PENDING) belong to no organization (must never sync to a tenant).
--   "Team"      : md5('ncy8:team:<c>:<t>')     t = 1..2
--   "Project"   : md5('ncy8:project:<c>:<p>')  p = 1..P, P = greatest(3, least(300, rows / 5000))
--   "Task"      : md5('ncy8:task:<i>')         i = 1..rows
--   "Role"      : md5('ncy8:role:<name>'), "Permission": md5('ncy8:permission:<key>')   (global)

\set ON_ERROR_STOP 1
\if :{?rows}
\else
  \echo 'sample-data.sql: pass the main-table row count with  psql -v rows=N'
  DO $$ BEGIN RAISE EXCEPTION 'sample-data.sql requires -v rows=N'; END $$;
\endif

SET TIME ZONE 'UTC';
SELECT (:'rows')::int AS rows_n \gset
SELECT greatest(3, least(300, :rows_n / 5000)) AS ppo \gset
SELECT greatest(30, :rows_n / 50) AS audit_n, greatest(100, :rows_n / 20) AS access_n \gset

BEGIN;

-- ---------------------------------------------------------------------------
-- Users (global), RBAC
-- ---------------------------------------------------------------------------
INSERT INTO "User" ("id", "email", "password_hash", "role", "status", "created_at", "updated_at", "deleted_at")
SELECT md5('ncy8:user:' || u)::uuid,
       CASE WHEN u <= 3 THEN 'owner@' || dom
            WHEN u = 31 THEN 'system@ncy-8.com'
            WHEN u = 32 THEN 'pending.invite+zoë@ncy-8.com'
            ELSE (ARRAY['zoe', 'jose', 'hana', 'lukasz', 'amelie', 'soren', 'ngozi', 'mateo', 'yuki', 'chloe'])[1 + u % 10]
                 || '.' || u || '@' || dom END,
       '$2b$12$' || substr(translate(encode(sha256(convert_to('ncy8:pw:' || u, 'UTF8')), 'base64')
                                  || encode(sha256(convert_to('ncy8:pw2:' || u, 'UTF8')), 'base64'), '+/=', './'), 1, 53),
       (CASE WHEN u = 31 THEN 'SYSTEM' WHEN u <= 3 THEN 'ADMIN' WHEN u <= 12 THEN 'MANAGER' ELSE 'EMPLOYEE' END)::"UserRole",
       (CASE WHEN u = 32 THEN 'PENDING' WHEN u = 29 THEN 'SUSPENDED' WHEN u = 30 THEN 'INACTIVE' ELSE 'ACTIVE' END)::"UserStatus",
       timestamp '2023-05-01 09:00:00.001' + u * interval '1 day 2 hours 3.004 seconds',
       timestamp '2024-05-01 09:00:00.999' + u * interval '3 hours',
       CASE WHEN u = 30 THEN timestamp '2024-12-31 23:59:59.999' END
FROM generate_series(1, 32) AS u
CROSS JOIN LATERAL (SELECT (ARRAY['acme-labs.example', 'zoe-studio.example', 'tokyo-devs.example'])[(u - 1) % 3 + 1] AS dom) AS d;

INSERT INTO "Role" ("id", "name", "description", "created_at")
SELECT md5('ncy8:role:' || name)::uuid, name, descr, timestamp '2023-01-01 00:00:00' + ord * interval '1 minute'
FROM (VALUES (1, 'super_admin', 'Full platform access'),
             (2, 'org_admin', 'Administers an organization'),
             (3, 'project_manager', 'Manages projects & tasks'),
             (4, 'contributor', NULL),
             (5, 'viewer', 'Read-only — lecture seule — 閲覧のみ')) AS r(ord, name, descr);

INSERT INTO "Permission" ("id", "key", "description", "created_at")
SELECT md5('ncy8:permission:' || key)::uuid, key, descr, timestamp '2023-01-01 01:00:00' + ord * interval '1 minute'
FROM (VALUES (1, 'org:read', NULL), (2, 'org:write', 'Edit organization settings'),
             (3, 'team:read', NULL), (4, 'team:write', NULL),
             (5, 'project:read', NULL), (6, 'project:write', 'Create/edit projects'),
             (7, 'task:read', NULL), (8, 'task:write', 'Create/edit tasks'),
             (9, 'audit:read', 'Read audit logs'), (10, 'platform:admin', 'Dangerous 🔥')) AS p(ord, key, descr);

INSERT INTO "RolePermission" ("role_id", "permission_id")
SELECT md5('ncy8:role:' || r)::uuid, md5('ncy8:permission:' || p)::uuid
FROM (VALUES ('super_admin', ARRAY['org:read', 'org:write', 'team:read', 'team:write', 'project:read', 'project:write', 'task:read', 'task:write', 'audit:read', 'platform:admin']),
             ('org_admin', ARRAY['org:read', 'org:write', 'team:read', 'team:write', 'project:read', 'project:write', 'task:read', 'task:write', 'audit:read']),
             ('project_manager', ARRAY['org:read', 'team:read', 'project:read', 'project:write', 'task:read', 'task:write']),
             ('contributor', ARRAY['org:read', 'team:read', 'project:read', 'task:read', 'task:write']),
             ('viewer', ARRAY['org:read', 'project:read', 'task:read'])) AS m(r, ps)
CROSS JOIN LATERAL unnest(m.ps) AS p;

INSERT INTO "UserRoleMap" ("user_id", "role_id", "granted_at", "granted_by")
SELECT md5('ncy8:user:' || u)::uuid,
       md5('ncy8:role:' || CASE WHEN u = 31 THEN 'super_admin' WHEN u <= 3 THEN 'org_admin' WHEN u <= 12 THEN 'project_manager'
                                WHEN u % 5 = 0 THEN 'viewer' ELSE 'contributor' END)::uuid,
       timestamp '2023-05-02 10:00:00.5' + u * interval '1 day',
       CASE WHEN u IN (31, 32) THEN NULL ELSE md5('ncy8:user:' || ((u - 1) % 3 + 1))::uuid END
FROM generate_series(1, 32) AS u;

-- ---------------------------------------------------------------------------
-- Sessions, API keys (server-side secrets), preferences
-- ---------------------------------------------------------------------------
INSERT INTO "Session" ("id", "user_id", "refresh_token", "ip_address", "user_agent", "expires_at", "created_at")
SELECT md5('ncy8:session:' || u || ':' || s)::uuid,
       md5('ncy8:user:' || u)::uuid,
       'rt_' || encode(sha256(convert_to('ncy8:refresh:' || u || ':' || s, 'UTF8')), 'hex'),
       CASE WHEN u % 4 = 0 THEN NULL WHEN u % 3 = 0 THEN ('2001:db8:8::' || to_hex(u * 10 + s))::inet
            ELSE ('198.51.100.' || (u * 2 + s))::inet END,
       CASE WHEN u % 4 = 0 THEN NULL ELSE 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0' END,
       timestamp '2025-03-01 00:00:00' + (u * 2 + s) * interval '1 day',
       timestamp '2025-02-01 08:00:00.001' + (u * 2 + s) * interval '1 hour 0.001 seconds'
FROM generate_series(1, 31) AS u CROSS JOIN generate_series(1, 2) AS s
WHERE s = 1 OR u % 3 = 1;

INSERT INTO "ApiKey" ("id", "key_hash", "user_id", "scopes", "last_used_at", "expires_at", "created_at")
SELECT md5('ncy8:apikey:' || k)::uuid,
       encode(sha256(convert_to('ncy8:api-key-secret:' || k, 'UTF8')), 'hex'),
       md5('ncy8:user:' || (ARRAY[1, 2, 3, 31, 4, 5])[k])::uuid,
       CASE k WHEN 1 THEN ARRAY['tasks:read', 'tasks:write']
              WHEN 2 THEN ARRAY['projects:read']
              WHEN 3 THEN ARRAY[]::text[]
              WHEN 4 THEN ARRAY['*']
              WHEN 5 THEN ARRAY['tasks:read', 'weird,"scope"']
              ELSE ARRAY['audit:read', 'backslash\scope'] END,
       CASE WHEN k % 2 = 0 THEN NULL ELSE timestamp '2025-02-10 12:34:56.789' + k * interval '1 hour' END,
       CASE WHEN k = 4 THEN NULL ELSE timestamp '2026-01-01 00:00:00' + k * interval '30 days' END,
       timestamp '2024-11-11 11:11:11.111' + k * interval '1 day'
FROM generate_series(1, 6) AS k;

INSERT INTO "UserPreferences" ("id", "user_id", "preferences", "timezone", "locale", "created_at", "updated_at")
SELECT md5('ncy8:prefs:' || u)::uuid,
       md5('ncy8:user:' || u)::uuid,
       CASE WHEN u % 7 = 0 THEN NULL
            ELSE jsonb_build_object('theme', (ARRAY['dark', 'light', 'system'])[1 + u % 3],
                                    'notifications', jsonb_build_object('email', u % 2 = 0, 'push', true,
                                                                        'digest', jsonb_build_object('hour', 8 + u % 4, 'days', jsonb_build_array(1, 3, 5))),
                                    'pinnedProjects', jsonb_build_array())
       END,
       CASE WHEN u % 5 = 0 THEN NULL ELSE (ARRAY['UTC', 'Europe/Paris', 'Asia/Tokyo', 'America/Los_Angeles'])[1 + u % 4] END,
       CASE WHEN u % 5 = 0 THEN NULL ELSE (ARRAY['en', 'fr-FR', 'ja', 'en-US'])[1 + u % 4] END,
       timestamp '2023-06-01 00:00:00.123' + u * interval '1 day',
       timestamp '2024-06-01 00:00:00.456' + u * interval '1 day'
FROM generate_series(1, 32) AS u;

-- ---------------------------------------------------------------------------
-- Organizations, members, teams
-- ---------------------------------------------------------------------------
INSERT INTO "Organization" ("id", "name", "slug", "owner_id", "settings", "created_at", "updated_at")
SELECT md5('ncy8:organization:' || c)::uuid,
       (ARRAY['Acme Labs', 'Zoë Studio — Design & Co', '東京デベロッパーズ 🗼'])[c],
       (ARRAY['acme-labs', 'zoe-studio', 'tokyo-devs'])[c],
       md5('ncy8:user:' || c)::uuid,
       (ARRAY['{"plan": "enterprise", "sso": {"provider": "okta", "domains": ["acme-labs.example"]}, "limits": {"projects": 500, "storageGb": 1024}}',
              '{}',
              NULL])[c]::jsonb,
       timestamp '2023-05-03 09:00:00.001' + c * interval '1 day',
       timestamp '2024-05-03 09:00:00.002' + c * interval '1 day'
FROM generate_series(1, 3) AS c;

INSERT INTO "OrganizationMember" ("id", "organization_id", "user_id", "role", "joined_at", "deleted_at")
SELECT md5('ncy8:member:' || c || ':' || u)::uuid,
       md5('ncy8:organization:' || c)::uuid,
       md5('ncy8:user:' || u)::uuid,
       (CASE WHEN c = 2 AND u = 1 THEN 'MEMBER' WHEN u <= 3 THEN 'OWNER' WHEN u <= 6 THEN 'ADMIN' WHEN u <= 12 THEN 'MANAGER' ELSE 'MEMBER' END)::"OrgRole",
       timestamp '2023-05-04 10:00:00.123' + (c * 100 + u) * interval '1 hour',
       CASE WHEN u = 30 THEN timestamp '2024-12-31 23:59:59.999' END
FROM (SELECT (u - 1) % 3 + 1 AS c, u FROM generate_series(1, 30) AS u
      UNION ALL SELECT 2, 1) AS m;

INSERT INTO "Team" ("id", "organization_id", "name", "description", "created_at", "updated_at", "deleted_at")
SELECT md5('ncy8:team:' || c || ':' || t)::uuid,
       md5('ncy8:organization:' || c)::uuid,
       (ARRAY['Platform', 'Équipe produit ✨'])[t],
       CASE WHEN t = 1 THEN 'Backend, infra & "DevOps"' END,
       timestamp '2023-05-05 09:00:00' + (c * 2 + t) * interval '1 day',
       timestamp '2023-05-05 09:00:00' + (c * 2 + t) * interval '2 days',
       NULL
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 2) AS t
UNION ALL
SELECT md5('ncy8:team:3:3')::uuid, md5('ncy8:organization:3')::uuid, '解散したチーム', NULL,
       timestamp '2023-06-01 09:00:00', timestamp '2024-01-01 09:00:00', timestamp '2024-01-01 09:00:00.5';

INSERT INTO "TeamMember" ("team_id", "user_id", "joined_at", "deleted_at")
SELECT md5('ncy8:team:' || ((u - 1) % 3 + 1) || ':' || (((u - 1) / 3) % 2 + 1))::uuid,
       md5('ncy8:user:' || u)::uuid,
       timestamp '2023-05-06 09:00:00.777' + u * interval '1 hour',
       CASE WHEN u = 27 THEN timestamp '2024-03-03 03:03:03.003' END
FROM generate_series(1, 30) AS u;

-- ---------------------------------------------------------------------------
-- Projects (P per org)
-- ---------------------------------------------------------------------------
INSERT INTO "Project" ("id", "organization_id", "name", "description", "status", "settings", "created_at", "updated_at", "deleted_at")
SELECT md5('ncy8:project:' || c || ':' || p)::uuid,
       md5('ncy8:organization:' || c)::uuid,
       (ARRAY['Website relaunch', 'Migration vers Kubernetes', '新規モバイルアプリ', 'Q3 "North Star" metrics', 'Data platform 📊'])[1 + p % 5] || ' #' || p,
       CASE WHEN p % 3 = 0 THEN NULL ELSE 'Project ' || p || ' of org ' || c || E' — line one\nline two' END,
       (CASE WHEN p % 10 = 0 THEN 'ARCHIVED' WHEN p % 7 = 0 THEN 'INACTIVE' ELSE 'ACTIVE' END)::"ProjectStatus",
       CASE WHEN p % 4 = 0 THEN NULL
            ELSE jsonb_build_object('visibility', (ARRAY['private', 'org', 'public'])[1 + p % 3],
                                    'workflow', jsonb_build_object('columns', jsonb_build_array('TODO', 'IN_PROGRESS', 'REVIEW', 'DONE'),
                                                                   'wipLimit', p % 8),
                                    'budget', (p * 1000) - 2500) END,
       timestamp '2023-07-01 09:00:00.010' + (c * 1000 + p) * interval '1 hour 1.001 seconds',
       timestamp '2024-07-01 09:00:00.020' + (c * 1000 + p) * interval '1 hour',
       CASE WHEN p = 3 AND c = 1 THEN timestamp '2024-08-08 08:08:08.888' END
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, :ppo) AS p;

-- ---------------------------------------------------------------------------
-- Task: exactly :rows rows.
-- Bulk-load pattern (as pg_restore does it): secondary indexes and foreign keys of the main table are
-- stashed, dropped, and re-created with identical definitions after the insert; re-adding a FOREIGN KEY
-- validates every row in one set-based query. All inside this script's transaction.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE _stash ON COMMIT DROP AS
  SELECT 1 AS ord, 'DROP INDEX ' || i.indexrelid::regclass AS drop_sql, pg_get_indexdef(i.indexrelid) AS restore_sql
  FROM pg_index i
  WHERE i.indrelid = '"Task"'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 2, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
         'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE c.conrelid = '"Task"'::regclass AND c.contype = 'f';
SELECT drop_sql FROM _stash ORDER BY ord, restore_sql \gexec

CREATE TEMP TABLE _projects ON COMMIT DROP AS
  SELECT c, p, md5('ncy8:project:' || c || ':' || p)::uuid AS pid
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, :ppo) AS p;
CREATE TEMP TABLE _users ON COMMIT DROP AS
  SELECT u, md5('ncy8:user:' || u)::uuid AS uid FROM generate_series(1, 30) AS u;
ANALYZE _projects; ANALYZE _users;

INSERT INTO "Task" ("id", "project_id", "assignee_id", "title", "description", "status", "priority",
                    "due_date", "metadata", "created_at", "updated_at", "deleted_at")
SELECT md5('ncy8:task:' || t.i)::uuid,
       pr.pid,
       CASE WHEN t.i % 7 = 0 THEN NULL ELSE us.uid END,
       (ARRAY['Fix login bug', 'Écrire la documentation', 'デザインレビュー', 'Ship 🚢 release', 'Refactor "legacy" module, part', 'Update deps'])[1 + t.i % 6]
         || ' #' || t.i,
       CASE t.i % 5
         WHEN 0 THEN NULL
         WHEN 1 THEN 'Steps to reproduce: open /settings, click “Save”.'
         WHEN 2 THEN E'Multi-line\ndescription with tab\tand emoji 🧪'
         WHEN 3 THEN repeat('Lorem ipsum dolor sit amet. ', 1 + t.i % 20)
         ELSE '' END,
       (ARRAY['TODO', 'IN_PROGRESS', 'REVIEW', 'DONE', 'DONE', 'CANCELLED'])[1 + (t.i / 3) % 6]::"TaskStatus",
       (ARRAY['LOW', 'MEDIUM', 'MEDIUM', 'HIGH', 'URGENT'])[1 + (t.i / 5) % 5]::"TaskPriority",
       CASE WHEN t.i % 4 = 0 THEN NULL ELSE timestamp '2024-09-01 17:00:00' + (t.i % 400) * interval '1 day' END,
       CASE WHEN t.i % 10 = 0 THEN NULL
            WHEN t.i % 10 = 1 THEN '{}'::jsonb
            ELSE jsonb_build_object('labels', jsonb_build_array('bug', (ARRAY['frontend', 'backend', 'ops'])[1 + t.i % 3]),
                                    'estimate', jsonb_build_object('points', t.i % 13, 'hours', (t.i % 40) / 4.0),
                                    'externalRef', CASE WHEN t.i % 3 = 0 THEN 'JIRA-' || t.i END,
                                    'delta', (t.i % 21) - 10) END,
       timestamp '2024-01-01 00:00:00' + t.i * interval '3.217 seconds',
       timestamp '2024-01-01 00:00:00' + t.i * interval '3.217 seconds' + (t.i % 90) * interval '1 hour 0.001 seconds',
       CASE WHEN t.i % 100 = 0 THEN timestamp '2025-01-01 00:00:00' + (t.i % 1000) * interval '1 minute' END
FROM (SELECT i, (i - 1) % 3 + 1 AS c, ((i - 1) / 3) % :ppo + 1 AS p, (((i - 1) / 3) / :ppo) % 10 AS a
      FROM generate_series(1, :rows_n) AS i) t
JOIN _projects pr ON pr.c = t.c AND pr.p = t.p
JOIN _users us ON us.u = t.c + 3 * t.a;

SELECT restore_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- ---------------------------------------------------------------------------
-- Logs (server-side)
-- ---------------------------------------------------------------------------
INSERT INTO "AuditLog" ("id", "user_id", "action", "target_table", "target_id", "old_value", "new_value",
                        "ip_address", "user_agent", "created_at")
SELECT md5('ncy8:audit:' || j)::uuid,
       CASE WHEN j % 11 = 0 THEN NULL ELSE md5('ncy8:user:' || (1 + j % 30))::uuid END,
       (ARRAY['CREATE', 'UPDATE', 'DELETE', 'LOGIN'])[1 + j % 4],
       (ARRAY['Task', 'Project', 'Task', 'User'])[1 + j % 4],
       CASE WHEN j % 4 = 3 THEN md5('ncy8:user:' || (1 + j % 30))::uuid
            WHEN j % 4 = 1 THEN md5('ncy8:project:' || (1 + j % 3) || ':' || (1 + j % :ppo))::uuid
            ELSE md5('ncy8:task:' || (1 + (j * 37) % greatest(:rows_n, 1)))::uuid END,
       CASE WHEN j % 4 = 1 THEN jsonb_build_object('status', 'ACTIVE', 'name', 'Ancien nom') END,
       CASE WHEN j % 4 IN (0, 1) THEN jsonb_build_object('status', 'ARCHIVED', 'changedBy', jsonb_build_object('via', 'api', 'keyId', j % 6)) END,
       CASE WHEN j % 5 = 0 THEN NULL ELSE ('192.0.2.' || (j % 250))::inet END,
       CASE WHEN j % 5 = 0 THEN NULL ELSE 'ncy8-cli/1.4.0 node/20.11.1' END,
       timestamp '2024-01-01 00:00:00' + j * interval '61.5 seconds'
FROM generate_series(1, :audit_n) AS j;

INSERT INTO "ErrorLog" ("id", "service", "level", "message", "stack", "context", "created_at")
SELECT md5('ncy8:error:' || j)::uuid,
       (ARRAY['api-gateway', 'task-service', 'notifier', 'billing'])[1 + j % 4],
       (ARRAY['DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'])[1 + j % 5]::"LogLevel",
       (ARRAY['Connection reset by peer', 'Timeout after 30000ms', 'Échec de l''envoi du courriel', 'null pointer 💥'])[1 + j % 4],
       CASE WHEN j % 5 >= 3 THEN E'Error: boom\n    at handler (/app/src/handler.ts:42:13)\n    at processTicksAndRejections (node:internal/process/task_queues:95:5)' END,
       CASE WHEN j % 6 = 0 THEN NULL ELSE jsonb_build_object('requestId', md5('ncy8:req:' || j), 'attempt', j % 3, 'tags', jsonb_build_array('retry', 'a,b')) END,
       timestamp '2025-01-01 00:00:00.001' + j * interval '17 minutes'
FROM generate_series(1, 50) AS j;

INSERT INTO "AccessLog" ("id", "user_id", "method", "endpoint", "status_code", "latency_ms", "timestamp")
SELECT md5('ncy8:access:' || j)::uuid,
       CASE WHEN j % 8 = 0 THEN NULL ELSE md5('ncy8:user:' || (1 + j % 31))::uuid END,
       (ARRAY['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'])[1 + j % 5],
       (ARRAY['/api/v1/tasks', '/api/v1/projects/:id', '/api/v1/orgs/:slug/members', '/health'])[1 + j % 4],
       (ARRAY[200, 201, 204, 400, 401, 404, 500])[1 + j % 7],
       CASE WHEN j % 13 = 0 THEN NULL ELSE (j * 7) % 2500 END,
       timestamp '2025-02-01 00:00:00' + j * interval '0.731 seconds'
FROM generate_series(1, :access_n) AS j;

COMMIT;

ANALYZE;
