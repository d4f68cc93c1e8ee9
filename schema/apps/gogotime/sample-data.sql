-- GoGoTime deterministic sample data.
--   psql -v ON_ERROR_STOP=1 -v rows=N -f sample-data.sql      (on a database loaded with schema.sql)
--
-- `rows` = exact number of rows in the main fact table "timesheet_entries", spread round-robin over
-- the 3 companies (entry i belongs to company ((i-1) % 3) + 1). Everything is derived from i: no
-- randomness, ids are md5(...)::uuid of a readable key, timestamps are a fixed epoch plus offsets.
--
-- Tenants (companies."id"):
--   company 1 = md5('gogotime:company:1')::uuid = '4e59da50-40fc-5e0d-33c1-688ba4977baa'  "Acme Corp"
--   company 2 = md5('gogotime:company:2')::uuid = '4586023b-b360-9b62-50c1-870e43c70adb'  "Zoë's Café GmbH"
--   company 3 = md5('gogotime:company:3')::uuid = '33cb6c00-a046-e1fe-98af-d95c82ad0c34'  "東京 Timeworks 株式会社 🚀"
-- Other ids:
--   user_statuses : md5('gogotime:user_status:<CODE>')       CODE in ACTIVE, INVITED, SUSPENDED, TERMINATED (global)
--   roles         : md5('gogotime:role:<c>:<admin|manager|employee|controller>')
--   permissions   : md5('gogotime:permission:<c>:<k>')         k = 1..8
--   users         : md5('gogotime:user:<c>:<u>')               u = 1..U, U = greatest(20, least(1000, rows/5000))
--                   u = 1 admin, u = 2..4 managers, others employees; u = U-1 INVITED, u = U TERMINATED
--                   user 5 of company 1 is 'alex.martin@shared-contractors.example' and user 5 of company 2
--                   is 'Alex.Martin@Shared-Contractors.example' (citext: same email, different companies).
--   action_codes  : md5('gogotime:action_code:<c>:<a>')        a = 1..6
--   teams         : md5('gogotime:team:<c>:<t>')               t = 1..3
--   timesheets    : md5('gogotime:timesheet:<c>:<u>:<w>')      one per user and week w = 0..W-1 (Mondays from 2023-01-02)
--   entries       : md5('gogotime:entry:<i>')                  i = 1..rows
-- Every 23rd entry has no timesheet ("timesheetId" NULL); every 250th is soft-deleted.

\set ON_ERROR_STOP 1
\if :{?rows}
\else
  \echo 'sample-data.sql: pass the main-table row count with  psql -v rows=N'
  DO $$ BEGIN RAISE EXCEPTION 'sample-data.sql requires -v rows=N'; END $$;
\endif

SET TIME ZONE 'UTC';
SELECT (:'rows')::int AS rows_n \gset
SELECT greatest(20, least(1000, :rows_n / 5000)) AS upc \gset
SELECT CASE WHEN :rows_n <= 0 THEN 1 ELSE ((:rows_n - 1) / 3 / :upc) / 15 + 1 END AS weeks \gset

BEGIN;

-- ---------------------------------------------------------------------------
-- companies + settings
-- ---------------------------------------------------------------------------
INSERT INTO "companies" ("id", "name", "timezone", "createdAt", "updatedAt", "version")
SELECT md5('gogotime:company:' || c)::uuid,
       (ARRAY['Acme Corp', 'Zoë''s Café GmbH', '東京 Timeworks 株式会社 🚀'])[c],
       (ARRAY['America/New_York', 'Europe/Berlin', NULL])[c],
       timestamptz '2022-11-01 09:00:00.123456+00' + (c * interval '1 day 37 minutes 0.000321 seconds'),
       timestamptz '2022-11-01 09:00:00.123456+00' + (c * interval '2 days 11 minutes 0.654321 seconds'),
       c
FROM generate_series(1, 3) AS c;

INSERT INTO "company_settings" ("companyId", "timezone", "workWeek", "holidayCalendar",
                                "timesheetApproverPolicy", "allowedEmailDomains", "requireCompanyEmail",
                                "createdAt", "updatedAt")
SELECT md5('gogotime:company:' || c)::uuid,
       (ARRAY['America/New_York', 'Europe/Berlin', 'Asia/Tokyo'])[c],
       (ARRAY[
         '{"monday": [9, 17], "tuesday": [9, 17], "wednesday": [9, 17], "thursday": [9, 17], "friday": [9, 15], "utcOffsetHours": [-5]}',
         '{"monday": [8, 16.5], "tuesday": [8, 16.5], "wednesday": [8, 16.5], "thursday": [8, 16.5], "friday": [8, 12], "saturday": []}',
         '{"monday": [9, 18], "tuesday": [9, 18], "wednesday": [9, 18], "thursday": [9, 18], "friday": [9, 18], "utcOffsetHours": [9]}'
       ])[c]::jsonb,
       (ARRAY['us_federal_holidays', 'de_berlin_feiertage', NULL])[c],
       (ARRAY['manager_of_user', 'role_manager', 'explicit'])[c],
       CASE c WHEN 1 THEN ARRAY['acme.example', 'acme-corp.example']
              WHEN 2 THEN ARRAY['zoe-cafe.example', 'weird,domain "quoted".example', 'back\slash.example'] END,
       c = 1,
       timestamptz '2022-11-01 10:00:00.000001+00' + c * interval '1 hour',
       timestamptz '2022-11-02 10:00:00.999999+00' + c * interval '1 hour'
FROM generate_series(1, 3) AS c;

-- ---------------------------------------------------------------------------
-- user_statuses (global)
-- ---------------------------------------------------------------------------
INSERT INTO "user_statuses" ("id", "code", "name", "description", "canLogin", "isTerminal", "createdAt", "updatedAt")
VALUES
  (md5('gogotime:user_status:ACTIVE')::uuid,     'ACTIVE',     'Active',     'User is currently active and can log in.', true,  false,
   '2022-10-01 00:00:00.000001+00', '2022-10-01 00:00:00.000001+00'),
  (md5('gogotime:user_status:INVITED')::uuid,    'INVITED',    'Invited',    'Invitation sent — waiting for the first login.', false, false,
   '2022-10-01 00:00:00.000002+00', '2022-10-01 00:00:00.000002+00'),
  (md5('gogotime:user_status:SUSPENDED')::uuid,  'SUSPENDED',  'Suspended',  NULL, false, false,
   '2022-10-01 00:00:00.000003+00', '2022-10-01 00:00:00.000003+00'),
  (md5('gogotime:user_status:TERMINATED')::uuid, 'TERMINATED', 'Terminated', 'Terminal status: account closed.', false, true,
   '2022-10-01 00:00:00.000004+00', '2022-10-01 00:00:00.000004+00');

-- ---------------------------------------------------------------------------
-- roles / permissions / role_permissions
-- ---------------------------------------------------------------------------
INSERT INTO "roles" ("id", "companyId", "name", "description", "createdAt", "updatedAt")
SELECT md5('gogotime:role:' || c || ':' || r.key)::uuid,
       md5('gogotime:company:' || c)::uuid,
       r.name, r.descr,
       timestamptz '2022-11-03 08:00:00+00' + (c * 10 + r.ord) * interval '1.000001 seconds',
       timestamptz '2022-11-03 08:00:00+00' + (c * 10 + r.ord) * interval '1.000001 seconds'
FROM generate_series(1, 3) AS c
CROSS JOIN (VALUES (1, 'admin',    'Admin',    'Administrator with full access to all company resources.'),
                   (2, 'manager',  'Manager',  'Approves timesheets and leave for their teams.'),
                   (3, 'employee', 'Employee', NULL)) AS r(ord, key, name, descr)
UNION ALL
SELECT md5('gogotime:role:3:controller')::uuid, md5('gogotime:company:3')::uuid,
       'Contrôleur · 東京 🕒', 'Read-only auditor role (no users yet)',
       timestamptz '2022-11-03 08:00:59.5+00', timestamptz '2022-11-03 08:00:59.5+00';

INSERT INTO "permissions" ("id", "companyId", "name", "description", "createdAt", "updatedAt")
SELECT md5('gogotime:permission:' || c || ':' || p.k)::uuid,
       md5('gogotime:company:' || c)::uuid,
       p.name, p.descr,
       timestamptz '2022-11-03 09:00:00+00' + (c * 10 + p.k) * interval '0.5 seconds',
       timestamptz '2022-11-03 09:00:00+00' + (c * 10 + p.k) * interval '0.5 seconds'
FROM generate_series(1, 3) AS c
CROSS JOIN (VALUES (1, 'create_user',          'Allows creation of new user accounts'),
                   (2, 'delete_user',          NULL),
                   (3, 'approve_timesheet',    'Approve or reject submitted timesheets'),
                   (4, 'submit_timesheet',     'Submit one''s own timesheet'),
                   (5, 'edit_timesheet_entry', NULL),
                   (6, 'manage_action_codes',  'Create/disable action codes'),
                   (7, 'view_reports',         'View company reports'),
                   (8, 'manage_leave',         'Approve leave requests')) AS p(k, name, descr);

INSERT INTO "role_permissions" ("id", "companyId", "roleId", "permissionId", "createdAt", "updatedAt")
SELECT md5('gogotime:role_permission:' || c || ':' || rp.role || ':' || rp.k)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:role:' || c || ':' || rp.role)::uuid,
       md5('gogotime:permission:' || c || ':' || rp.k)::uuid,
       timestamptz '2022-11-03 10:00:00+00', timestamptz '2022-11-03 10:00:00+00'
FROM generate_series(1, 3) AS c
CROSS JOIN (SELECT 'admin' AS role, k FROM generate_series(1, 8) AS k
            UNION ALL SELECT 'manager', k FROM unnest(ARRAY[3, 4, 5, 7, 8]) AS k
            UNION ALL SELECT 'employee', k FROM unnest(ARRAY[4, 5]) AS k) AS rp;

-- ---------------------------------------------------------------------------
-- users (U per company)
-- ---------------------------------------------------------------------------
INSERT INTO "users" ("id", "companyId", "email", "firstName", "lastName", "passwordHash",
                     "mustChangePasswordAtNextLogin", "roleId", "phoneNumber", "lastLogin",
                     "isAnonymized", "statusId", "createdAt", "updatedAt", "deletedAt", "version",
                     "createdByUserId", "updatedByUserId")
SELECT md5('gogotime:user:' || c || ':' || u)::uuid,
       md5('gogotime:company:' || c)::uuid,
       CASE WHEN u = 5 AND c = 1 THEN 'alex.martin@shared-contractors.example'
            WHEN u = 5 AND c = 2 THEN 'Alex.Martin@Shared-Contractors.example'
            WHEN u = 1 THEN 'admin@' || dom
            ELSE 'user' || u || '@' || dom END,
       CASE WHEN u = 5 AND c IN (1, 2) THEN 'Alex'
            ELSE (ARRAY['Zoë', 'José', 'Yuki', 'Łukasz', 'Amélie', 'Søren', 'Ngozi', 'Mateo',
                        '美咲', 'Chloé', 'Oğuz', 'Ana'])[1 + (u * 7 + c) % 12] END,
       CASE WHEN u = 5 AND c IN (1, 2) THEN 'Martin'
            ELSE (ARRAY['Müller', 'O''Brien', 'Tanaka', 'Nguyễn', 'García', 'Smith', 'Kowalski',
                        '佐藤', 'Øvergaard', 'Dubois', 'van der Berg', 'Ng 🙂'])[1 + (u * 5 + c * 3) % 12] END,
       '$2b$12$' || substr(translate(encode(sha256(convert_to('gogotime:pw:' || c || ':' || u, 'UTF8')), 'base64')
                                  || encode(sha256(convert_to('gogotime:pw2:' || c || ':' || u, 'UTF8')), 'base64'),
                                  '+/=', './'), 1, 53),
       u = :upc - 1,
       md5('gogotime:role:' || c || ':' || CASE WHEN u = 1 THEN 'admin' WHEN u <= 4 THEN 'manager' ELSE 'employee' END)::uuid,
       CASE WHEN u % 4 = 0 THEN NULL ELSE '+1555' || lpad((c * 100000 + u)::text, 7, '0') END,
       CASE WHEN u >= :upc - 1 THEN NULL
            ELSE timestamptz '2024-06-01 07:30:00+00' + u * interval '3 hours 17 minutes 0.123457 seconds' END,
       u = :upc,
       md5('gogotime:user_status:' || CASE WHEN u = :upc THEN 'TERMINATED' WHEN u = :upc - 1 THEN 'INVITED'
                                           WHEN u = 7 THEN 'SUSPENDED' ELSE 'ACTIVE' END)::uuid,
       timestamptz '2022-11-05 08:00:00+00' + (c * 1000 + u) * interval '1 minute 0.000007 seconds',
       timestamptz '2022-11-06 08:00:00+00' + (c * 1000 + u) * interval '1 minute 0.000011 seconds',
       CASE WHEN u = :upc THEN timestamptz '2024-01-31 17:00:00.5+00' END,
       1 + u % 3,
       CASE WHEN u = 1 THEN NULL ELSE md5('gogotime:user:' || c || ':1')::uuid END,
       CASE WHEN u % 2 = 0 THEN md5('gogotime:user:' || c || ':1')::uuid END
FROM generate_series(1, 3) AS c
CROSS JOIN LATERAL (SELECT (ARRAY['acme.example', 'zoe-cafe.example', 'tokyo-timeworks.example'])[c] AS dom) AS d
CROSS JOIN generate_series(1, :upc) AS u;

-- anonymized terminated users look like the AnonymizationService output
UPDATE "users" SET "firstName" = 'Deleted', "lastName" = 'User', "phoneNumber" = NULL,
                   "email" = 'deleted-' || "id" || '@gogotime.com'
WHERE "isAnonymized";

INSERT INTO "active_sessions" ("id", "companyId", "userId", "tokenHash", "previousTokenHash", "expiresAt",
                               "revokedAt", "lastSeenAt", "ip", "userAgent", "deviceId", "createdAt", "updatedAt")
SELECT md5('gogotime:session:' || c || ':' || u || ':' || s)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:user:' || c || ':' || u)::uuid,
       encode(sha256(convert_to('gogotime:refresh:' || c || ':' || u || ':' || s, 'UTF8')), 'hex'),
       CASE WHEN (u + s) % 3 = 0 THEN encode(sha256(convert_to('gogotime:refresh-prev:' || c || ':' || u || ':' || s, 'UTF8')), 'hex') END,
       CASE WHEN u % 10 = 0 THEN NULL ELSE timestamptz '2025-01-01 00:00:00+00' + (u * 3 + s) * interval '1 hour' END,
       CASE WHEN s = 2 THEN timestamptz '2024-12-24 12:00:00.000042+00' + u * interval '1 minute' END,
       timestamptz '2024-12-20 08:00:00+00' + (c * 1000 + u * 2 + s) * interval '1 minute 0.000013 seconds',
       CASE WHEN u % 5 = 0 THEN NULL
            WHEN u % 3 = 0 THEN ('2001:db8:' || c || '::' || to_hex(u))::inet
            ELSE ('10.' || c || '.' || (u / 256) || '.' || (u % 256))::inet END,
       CASE WHEN u % 5 = 0 THEN NULL
            WHEN s = 1 THEN 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36'
            ELSE 'GoGoTime/3.2.1 (iPhone; iOS 17.5; Scale/3.00)' END,
       CASE WHEN s = 2 THEN 'ios-' || md5('gogotime:device:' || c || ':' || u) END,
       timestamptz '2024-12-01 08:00:00+00' + (c * 1000 + u * 2 + s) * interval '1 minute 0.000017 seconds',
       timestamptz '2024-12-01 08:00:00+00' + (c * 1000 + u * 2 + s) * interval '1 minute 0.000017 seconds'
FROM generate_series(1, 3) AS c
CROSS JOIN generate_series(1, :upc - 1) AS u
CROSS JOIN generate_series(1, 2) AS s
WHERE s = 1 OR u % 4 = 1;

-- ---------------------------------------------------------------------------
-- teams / team_members
-- ---------------------------------------------------------------------------
INSERT INTO "teams" ("id", "companyId", "name", "createdAt", "updatedAt", "createdByUserId")
SELECT md5('gogotime:team:' || c || ':' || t)::uuid,
       md5('gogotime:company:' || c)::uuid,
       (ARRAY['Engineering', 'Opérations & Logistique', '営業 Sales 📈'])[t],
       timestamptz '2022-11-10 09:00:00+00' + (c * 3 + t) * interval '1 day',
       timestamptz '2022-11-10 09:00:00+00' + (c * 3 + t) * interval '1 day',
       md5('gogotime:user:' || c || ':1')::uuid
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 3) AS t;

INSERT INTO "team_members" ("id", "companyId", "teamId", "userId", "role", "createdAt", "updatedAt")
SELECT md5('gogotime:team_member:' || c || ':' || t || ':' || u)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:team:' || c || ':' || t)::uuid,
       md5('gogotime:user:' || c || ':' || u)::uuid,
       CASE WHEN u BETWEEN 2 AND 4 THEN 'lead' ELSE 'member' END,
       timestamptz '2022-11-15 09:00:00+00' + (c * 1000 + u) * interval '1 minute',
       timestamptz '2022-11-15 09:00:00+00' + (c * 1000 + u) * interval '1 minute'
FROM generate_series(1, 3) AS c
CROSS JOIN generate_series(1, :upc) AS u
CROSS JOIN LATERAL (SELECT (u - 1) % 3 + 1 AS t UNION ALL SELECT 2 WHERE u = 1) AS tt;

-- ---------------------------------------------------------------------------
-- action codes
-- ---------------------------------------------------------------------------
INSERT INTO "action_codes" ("id", "companyId", "code", "name", "type", "active", "createdAt", "updatedAt")
SELECT md5('gogotime:action_code:' || c || ':' || a.k)::uuid,
       md5('gogotime:company:' || c)::uuid,
       a.code, a.name, a.type, a.active,
       timestamptz '2022-11-20 09:00:00+00' + (c * 10 + a.k) * interval '1 hour',
       timestamptz '2022-11-20 09:00:00+00' + (c * 10 + a.k) * interval '1 hour'
FROM generate_series(1, 3) AS c
CROSS JOIN (VALUES (1, 'DEV',     'Development',           'billable',     true),
                   (2, 'MEET',    'Team Meeting',          'non-billable', true),
                   (3, 'SUPPORT', 'Customer support',      'billable',     true),
                   (4, 'TRAVEL',  'Déplacement ✈️',         'non-billable', true),
                   (5, 'TRAIN',   '研修 Training',          'non-billable', true),
                   (6, 'LEGACY',  'Legacy code (retired)', 'billable',     false)) AS a(k, code, name, type, active);

-- ---------------------------------------------------------------------------
-- leave requests (2 per user)
-- ---------------------------------------------------------------------------
INSERT INTO "leave_requests" ("id", "companyId", "userId", "startDate", "endDate", "leaveType", "status",
                              "reason", "rejectionReason", "createdAt", "updatedAt", "createdByUserId")
SELECT md5('gogotime:leave:' || c || ':' || u || ':' || k)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:user:' || c || ':' || u)::uuid,
       sd, sd + (u + k) % 5,
       (ARRAY['PTO', 'SICK', 'UNPAID'])[1 + (u + k) % 3],
       st,
       (ARRAY[NULL, 'Annual vacation trip', 'Arzttermin 🤒', '家族の用事', 'Moving house, "finally"'])[1 + (u * 3 + k) % 5],
       CASE WHEN st = 'REJECTED' THEN 'Insufficient coverage' END,
       sd - 14 + time '10:15:00.000123' + c * interval '1 second',
       sd - 13 + time '16:45:30.5',
       md5('gogotime:user:' || c || ':' || u)::uuid
FROM generate_series(1, 3) AS c
CROSS JOIN generate_series(1, :upc) AS u
CROSS JOIN generate_series(1, 2) AS k
CROSS JOIN LATERAL (SELECT date '2023-02-06' + (u * 13 + k * 97 + c * 5) AS sd,
                           (ARRAY['PENDING', 'APPROVED', 'REJECTED', 'CANCELLED', 'APPROVED'])[1 + (u + k * 2) % 5] AS st) AS x;

-- ---------------------------------------------------------------------------
-- timesheets (one per user per week) + approvals
-- ---------------------------------------------------------------------------
INSERT INTO "timesheets" ("id", "companyId", "userId", "periodStart", "periodEnd", "status", "submittedAt",
                          "submittedByUserId", "approvedAt", "approverId", "totalMinutes", "notes",
                          "createdAt", "updatedAt", "version", "createdByUserId", "updatedByUserId")
SELECT md5('gogotime:timesheet:' || c || ':' || u || ':' || w)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:user:' || c || ':' || u)::uuid,
       ps, ps + 6, st,
       CASE WHEN st <> 'DRAFT' THEN (ps + 7 + time '09:00:00') + ((c * 7 + u * 13 + w) % 600) * interval '1 minute 0.000001 seconds' END,
       CASE WHEN st <> 'DRAFT' THEN md5('gogotime:user:' || c || ':' || u)::uuid END,
       CASE WHEN st = 'APPROVED' THEN (ps + 8 + time '14:00:00.250001') + (u % 60) * interval '1 minute' END,
       CASE WHEN st IN ('APPROVED', 'REJECTED') THEN md5('gogotime:user:' || c || ':' || CASE WHEN u = 2 THEN 3 ELSE 2 END)::uuid END,
       0,
       CASE WHEN (u + w) % 9 = 0 THEN 'Weekly report for Project Alpha'
            WHEN (u + w) % 9 = 4 THEN 'Semaine chargée — clôture trimestrielle 📊'
            WHEN (u + w) % 9 = 7 THEN '出張あり; see "travel" entries' END,
       (ps + time '08:00:00') + ((c * 7 + u) % 50) * interval '1.000003 seconds',
       (ps + 7 + time '08:00:00') + ((c * 7 + u) % 50) * interval '1.000003 seconds',
       CASE st WHEN 'DRAFT' THEN 1 WHEN 'SUBMITTED' THEN 2 ELSE 3 END,
       md5('gogotime:user:' || c || ':' || u)::uuid,
       md5('gogotime:user:' || c || ':' || u)::uuid
FROM generate_series(1, 3) AS c
CROSS JOIN generate_series(1, :upc) AS u
CROSS JOIN generate_series(0, :weeks - 1) AS w
CROSS JOIN LATERAL (SELECT date '2023-01-02' + w * 7 AS ps,
                           CASE WHEN w = :weeks - 1 THEN CASE WHEN u % 2 = 0 THEN 'DRAFT' ELSE 'SUBMITTED' END
                                WHEN w = :weeks - 2 AND u % 3 = 0 THEN 'SUBMITTED'
                                WHEN (c + u + w) % CASE WHEN w >= :weeks - 2 THEN 7 ELSE 17 END = 0 THEN 'REJECTED'
                                ELSE 'APPROVED' END AS st) AS x;

INSERT INTO "timesheet_approvals" ("id", "companyId", "timesheetId", "approverId", "status", "reason",
                                   "decidedAt", "createdAt", "updatedAt")
SELECT md5('gogotime:approval:' || t."id")::uuid,
       t."companyId", t."id",
       coalesce(t."approverId", md5('gogotime:user:' || c.n || ':' || CASE WHEN t."userId" = md5('gogotime:user:' || c.n || ':2')::uuid THEN 3 ELSE 2 END)::uuid),
       CASE t."status" WHEN 'SUBMITTED' THEN 'PENDING' ELSE t."status" END,
       CASE t."status" WHEN 'REJECTED' THEN 'Missing entries for Friday' WHEN 'APPROVED' THEN 'Approved as submitted' END,
       CASE WHEN t."status" = 'APPROVED' THEN t."approvedAt"
            WHEN t."status" = 'REJECTED' THEN t."submittedAt" + interval '1 day 2 hours' END,
       t."submittedAt", coalesce(t."approvedAt", t."submittedAt")
FROM "timesheets" t
JOIN (SELECT n, md5('gogotime:company:' || n)::uuid AS id FROM generate_series(1, 3) AS n) c ON c.id = t."companyId"
WHERE t."status" <> 'DRAFT';

-- ---------------------------------------------------------------------------
-- timesheet_entries: exactly :rows rows (main fact table)
--   entry i -> company c = (i-1)%3+1, k = (i-1)/3, user u = k % U + 1, n = k / U (user's n-th entry),
--   3 entries per working day: day index di = n/3, week w = di/5, day = Monday(w) + di%5
-- ---------------------------------------------------------------------------
-- small lookup tables so the 1-per-row work is one md5 (the entry id) plus hash joins
CREATE TEMP TABLE _users ON COMMIT DROP AS
  SELECT c, u, md5('gogotime:company:' || c)::uuid AS cid, md5('gogotime:user:' || c || ':' || u)::uuid AS uid
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, :upc) AS u;
CREATE TEMP TABLE _timesheets ON COMMIT DROP AS
  SELECT c, u, w, md5('gogotime:timesheet:' || c || ':' || u || ':' || w)::uuid AS tid
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, :upc) AS u CROSS JOIN generate_series(0, :weeks - 1) AS w;
CREATE TEMP TABLE _action_codes ON COMMIT DROP AS
  SELECT c, a, md5('gogotime:action_code:' || c || ':' || a)::uuid AS aid
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 6) AS a;
ANALYZE _users; ANALYZE _timesheets; ANALYZE _action_codes;

-- Bulk-load pattern (as pg_restore does it): the main table's secondary indexes and foreign keys are
-- stashed and dropped, the rows are inserted, then the exact same definitions are re-created. Re-adding
-- each FOREIGN KEY validates every row in one set-based query, so all constraints are still checked.
-- Everything runs inside this script's transaction: on error nothing is left half-done.
CREATE TEMP TABLE _stash ON COMMIT DROP AS
  SELECT 1 AS ord, 'DROP INDEX ' || i.indexrelid::regclass AS drop_sql, pg_get_indexdef(i.indexrelid) AS restore_sql
  FROM pg_index i
  WHERE i.indrelid = '"timesheet_entries"'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 2, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
         'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE c.conrelid = '"timesheet_entries"'::regclass AND c.contype = 'f';
SELECT drop_sql FROM _stash ORDER BY ord, restore_sql \gexec

INSERT INTO "timesheet_entries" ("id", "companyId", "userId", "timesheetId", "actionCodeId", "workMode",
                                 "country", "startedAt", "endedAt", "durationMin", "day", "note",
                                 "createdAt", "updatedAt", "deletedAt", "version", "createdByUserId",
                                 "updatedByUserId")
SELECT md5('gogotime:entry:' || e.i)::uuid,
       us.cid,
       us.uid,
       CASE WHEN e.i % 23 = 0 THEN NULL ELSE ts.tid END,
       ac.aid,
       (ARRAY['office', 'remote', 'hybrid'])[1 + (e.i / 7) % 3],
       (ARRAY['US', 'DE', 'JP', 'FR', 'GB', 'IN', 'BR', 'TH'])[1 + (e.i / 5) % 8],
       CASE WHEN e.i % 11 = 0 THEN NULL ELSE e.st END,
       CASE WHEN e.i % 11 = 0 OR e.i % 37 = 0 THEN NULL ELSE e.st + e.dur * interval '1 minute' END,
       e.dur, e.d,
       CASE e.i % 10
         WHEN 0 THEN 'Worked on feature X'
         WHEN 1 THEN 'Réunion client avec Zoë — compte rendu envoyé'
         WHEN 2 THEN '東京オフィスで作業'
         WHEN 3 THEN 'Deploy 🚀 v2.' || (e.i % 97)
         WHEN 4 THEN E'Fixed "quote" handling, commas, and\nnewlines'
         WHEN 5 THEN repeat('long note ', 1 + e.i % 40)
         ELSE NULL END,
       (e.d + time '18:00:00') + (e.i % 1000000) * interval '1 microsecond',
       (e.d + time '18:00:00') + (e.i % 1000000) * interval '1 microsecond' + (e.i % 5) * interval '1 minute',
       CASE WHEN e.i % 250 = 0 THEN (e.d + time '20:00:00.000001') + interval '1 day' END,
       CASE WHEN e.i = 1 THEN 1000000 ELSE 1 + e.i % 3 END,
       us.uid,
       CASE WHEN e.i % 9 = 0 THEN mg.uid ELSE us.uid END
FROM (
  SELECT i, c, u, n, w, d, dur,
         ((d + time '08:00:00') + (n % 3) * interval '3 hours' + ((i::bigint * 7919) % 1000000) * interval '1 microsecond') AT TIME ZONE 'UTC' AS st
  FROM (
    SELECT i, c, u, n, (n / 3) / 5 AS w, date '2023-01-02' + ((n / 3) / 5) * 7 + (n / 3) % 5 AS d,
           CASE WHEN i % 1009 = 0 THEN 0 WHEN i % 1013 = 0 THEN 1440 ELSE 15 * (1 + (i * 7) % 32) END AS dur
    FROM (
      SELECT i, (i - 1) % 3 + 1 AS c, ((i - 1) / 3) % :upc + 1 AS u, ((i - 1) / 3) / :upc AS n
      FROM generate_series(1, :rows_n) AS i
    ) a
  ) b
) e
JOIN _users us        ON us.c = e.c AND us.u = e.u
JOIN _users mg        ON mg.c = e.c AND mg.u = 2
JOIN _timesheets ts   ON ts.c = e.c AND ts.u = e.u AND ts.w = e.w
JOIN _action_codes ac ON ac.c = e.c AND ac.a = 1 + (e.i / 3) % 6;

SELECT restore_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- roll-up cache
UPDATE "timesheets" t SET "totalMinutes" = s.total
FROM (SELECT "timesheetId", sum("durationMin")::int AS total
      FROM "timesheet_entries"
      WHERE "timesheetId" IS NOT NULL AND "deletedAt" IS NULL
      GROUP BY "timesheetId") s
WHERE t."id" = s."timesheetId";

-- ---------------------------------------------------------------------------
-- timesheet_history: one per timesheet event + one per 50 entries + action code events
-- ---------------------------------------------------------------------------
INSERT INTO "timesheet_history" ("id", "companyId", "userId", "targetType", "targetId", "action", "actorUserId",
                                 "reason", "diff", "metadata", "occurredAt", "createdAt", "updatedAt")
SELECT md5('gogotime:history:ts:' || t."id" || ':' || ev.action)::uuid,
       t."companyId", t."userId", 'Timesheet', t."id", ev.action,
       CASE WHEN ev.action IN ('approved', 'rejected') THEN t."approverId" ELSE t."userId" END,
       CASE ev.action WHEN 'rejected' THEN 'Missing entries for Friday' WHEN 'created' THEN 'Initial creation' END,
       CASE ev.action WHEN 'created' THEN NULL
            ELSE jsonb_build_object('status', CASE ev.action WHEN 'submitted' THEN 'DRAFT' ELSE 'SUBMITTED' END,
                                    'newStatus', upper(ev.action)) END,
       CASE WHEN ev.action = 'submitted' THEN '{"ipAddress": "192.168.1.1", "client": "GoGoTime iOS 3.2.1"}'::jsonb END,
       ev.at, ev.at, ev.at
FROM "timesheets" t
CROSS JOIN LATERAL (VALUES ('created', t."createdAt"),
                           ('submitted', t."submittedAt"),
                           ('approved', t."approvedAt"),
                           ('rejected', CASE WHEN t."status" = 'REJECTED' THEN t."submittedAt" + interval '1 day 2 hours' END)) AS ev(action, at)
WHERE ev.at IS NOT NULL;

INSERT INTO "timesheet_history" ("id", "companyId", "userId", "targetType", "targetId", "action", "actorUserId",
                                 "reason", "diff", "metadata", "occurredAt", "createdAt", "updatedAt")
SELECT md5('gogotime:history:entry:' || e."id")::uuid,
       e."companyId", e."userId", 'TimesheetEntry', e."id",
       CASE WHEN e."deletedAt" IS NOT NULL THEN 'deleted' WHEN e."version" > 1 THEN 'updated' ELSE 'created' END,
       e."updatedByUserId", NULL,
       jsonb_build_object('durationMin', e."durationMin"::text, 'note', coalesce(e."note", '')),
       NULL,
       e."updatedAt", e."updatedAt", e."updatedAt"
FROM "timesheet_entries" e
WHERE (('x' || substr(e."id"::text, 1, 8))::bit(32)::int) % 50 = 0;

INSERT INTO "timesheet_history" ("id", "companyId", "userId", "targetType", "targetId", "action", "actorUserId",
                                 "reason", "diff", "metadata", "occurredAt", "createdAt", "updatedAt")
SELECT md5('gogotime:history:action_code:' || c)::uuid,
       md5('gogotime:company:' || c)::uuid,
       md5('gogotime:user:' || c || ':1')::uuid,
       'ActionCode', md5('gogotime:action_code:' || c || ':6')::uuid, 'updated',
       md5('gogotime:user:' || c || ':1')::uuid,
       'Retired — use DEV instead',
       '{"active": "true", "newActive": "false"}'::jsonb,
       '{"ipAddress": "2001:db8::1"}'::jsonb,
       timestamptz '2023-03-01 12:00:00.000001+00', timestamptz '2023-03-01 12:00:00.000001+00',
       timestamptz '2023-03-01 12:00:00.000001+00'
FROM generate_series(1, 3) AS c;

COMMIT;

ANALYZE;
