-- ERP analytics deterministic sample data.
--   psql -v ON_ERROR_STOP=1 -v rows=N -f sample-data.sql      (on a database loaded with schema.sql)
--
-- `rows` = exact number of rows in the main fact table "analytics_events", spread round-robin over the
-- 3 tenants (event i belongs to tenant ((i-1) % 3) + 1). No randomness: ids are md5(<key>)::uuid.
--
-- Tenants (tenants."id"):
--   tenant 1 = md5('erp:tenant:1')::uuid = '59f19782-5347-825f-a9ae-54f2fc0a909f'  slug 'acme-retail'   ACTIVE
--   tenant 2 = md5('erp:tenant:2')::uuid = 'bfd3f248-6136-a738-37ea-80be0dfdfc67'  slug 'zoe-boutique'  TRIAL
--   tenant 3 = md5('erp:tenant:3')::uuid = 'c81d7c50-1e4b-df05-e34f-3136afd7cea2'  slug 'tokyo-ramen'   SUSPENDED
-- Other ids:
--   users        : md5('erp:user:<t>:<u>')         u = 1..12 per tenant; u = 1 ADMIN (SUPER_ADMIN in tenant 1)
--                  'ops@shared-agency.example' exists in tenants 1 and 2 (unique is per (email, tenantId)).
--   integrations : md5('erp:integration:<t>:<k>')  k = 1..4
--   events       : md5('erp:event:<i>')            i = 1..rows
--   audit_logs   : md5('erp:audit:<j>')            j = 1..greatest(30, rows/100)

\set ON_ERROR_STOP 1
\if :{?rows}
\else
  \echo 'sample-data.sql: pass the main-table row count with  psql -v rows=N'
  DO $$ BEGIN RAISE EXCEPTION 'sample-data.sql requires -v rows=N'; END $$;
\endif

SET TIME ZONE 'UTC';
SELECT (:'rows')::int AS rows_n \gset
SELECT greatest(30, :rows_n / 100) AS audit_n \gset

BEGIN;

INSERT INTO "tenants" ("id", "name", "slug", "domain", "status", "settings", "metadata", "features",
                       "maxUsers", "maxIntegrations", "encryptionKey", "planType", "billingEmail",
                       "createdAt", "updatedAt")
SELECT md5('erp:tenant:' || t)::uuid,
       (ARRAY['Acme Retail Group', 'Zoë''s Boutique Sàrl', '東京ラーメン株式会社 🍜'])[t],
       (ARRAY['acme-retail', 'zoe-boutique', 'tokyo-ramen'])[t],
       (ARRAY['analytics.acme-retail.example', NULL, 'erp.tokyo-ramen.example'])[t],
       (ARRAY['ACTIVE', 'TRIAL', 'SUSPENDED'])[t]::"TenantStatus",
       (ARRAY[
         '{"locale": "en-US", "currency": "USD", "dashboard": {"defaultRange": "30d", "widgets": ["revenue", "ads", {"type": "funnel", "steps": 4}]}, "fiscalYearStartMonth": 2}',
         '{"locale": "fr-CH", "currency": "CHF", "dashboard": {"defaultRange": "7d", "widgets": []}}',
         '{"locale": "ja-JP", "currency": "JPY", "dashboard": {"defaultRange": "90d", "widgets": ["pos"]}, "timezoneOffsetMinutes": 540}'
       ])[t]::jsonb,
       (ARRAY['{"crmId": "SF-00042", "onboarding": {"completed": true, "steps": [1, 2, 3]}}',
              '{}',
              '{"suspendedReason": "payment_failed", "balanceDue": -12500.75}'])[t]::jsonb,
       CASE t WHEN 1 THEN ARRAY['analytics', 'integrations', 'audit_logs', 'sso']
              WHEN 2 THEN ARRAY['analytics', 'beta: "smart, alerts"']
              ELSE NULL END,
       (ARRAY[250, 10, 25])[t],
       (ARRAY[50, 5, 8])[t],
       encode(sha256(convert_to('erp:tenant-key:' || t, 'UTF8')), 'base64'),
       (ARRAY['enterprise', 'trial', 'growth'])[t],
       (ARRAY['billing@acme-retail.example', 'zoé@zoe-boutique.example', 'keiri@tokyo-ramen.example'])[t],
       timestamp '2024-01-10 09:00:00.123' + t * interval '3 days 4 hours',
       timestamp '2024-06-10 09:00:00.456' + t * interval '5 days'
FROM generate_series(1, 3) AS t;

INSERT INTO "users" ("id", "email", "password", "firstName", "lastName", "avatar", "tenantId", "role",
                     "permissions", "status", "emailVerified", "lastLoginAt", "createdAt", "updatedAt")
SELECT md5('erp:user:' || t || ':' || u)::uuid,
       CASE WHEN u = 12 AND t IN (1, 2) THEN 'ops@shared-agency.example'
            WHEN u = 1 THEN 'admin@' || (ARRAY['acme-retail', 'zoe-boutique', 'tokyo-ramen'])[t] || '.example'
            ELSE 'user' || u || '@' || (ARRAY['acme-retail', 'zoe-boutique', 'tokyo-ramen'])[t] || '.example' END,
       '$2b$10$' || substr(translate(encode(sha256(convert_to('erp:pw:' || t || ':' || u, 'UTF8')), 'base64')
                                  || encode(sha256(convert_to('erp:pw2:' || t || ':' || u, 'UTF8')), 'base64'),
                                  '+/=', './'), 1, 53),
       CASE WHEN u % 6 = 5 THEN NULL
            ELSE (ARRAY['Zoë', 'José', 'Hiroshi', 'Małgorzata', 'Élodie', 'Björn', 'Aoife', 'Dmitrí', '陽菜', 'Ana-Maria', 'Kwame'])[1 + (t * 3 + u) % 11] END,
       CASE WHEN u % 6 = 5 THEN NULL
            ELSE (ARRAY['Ng', 'O''Connor', 'Suzuki', 'Wójcik', 'Lefèvre', 'Åberg', 'Ní Bhriain', 'Ivanov', '高橋', 'Popescu', 'Mensah 🌍'])[1 + (t * 5 + u * 2) % 11] END,
       CASE WHEN u % 3 = 0 THEN 'https://cdn.example/avatars/' || md5('erp:avatar:' || t || ':' || u) || '.png' END,
       md5('erp:tenant:' || t)::uuid,
       (CASE WHEN u = 1 AND t = 1 THEN 'SUPER_ADMIN' WHEN u <= 2 THEN 'ADMIN' WHEN u <= 9 THEN 'USER' ELSE 'VIEWER' END)::"UserRole",
       CASE WHEN u = 1 THEN ARRAY['*']
            WHEN u <= 2 THEN ARRAY['users:write', 'integrations:write', 'analytics:read']
            WHEN u <= 9 THEN ARRAY['analytics:read', 'analytics:write']
            WHEN u = 10 THEN ARRAY['analytics:read', 'reports:"export", csv']
            ELSE NULL END,
       (CASE WHEN u = 11 THEN 'INVITED' WHEN u = 10 AND t = 3 THEN 'SUSPENDED' WHEN u = 9 THEN 'INACTIVE' ELSE 'ACTIVE' END)::"UserStatus",
       u <> 11,
       CASE WHEN u IN (9, 11) THEN NULL ELSE timestamp '2025-01-15 08:00:00' + (t * 100 + u) * interval '2 hours 3 minutes 4.567 seconds' END,
       timestamp '2024-02-01 10:00:00.001' + (t * 100 + u) * interval '1 day 1.5 seconds',
       timestamp '2024-09-01 10:00:00.999' + (t * 100 + u) * interval '1 hour'
FROM generate_series(1, 3) AS t CROSS JOIN generate_series(1, 12) AS u;

INSERT INTO "integrations" ("id", "name", "provider", "description", "tenantId", "config", "credentials",
                            "status", "enabled", "lastSyncAt", "syncStatus", "syncError", "createdAt", "updatedAt")
SELECT md5('erp:integration:' || t || ':' || k)::uuid,
       p.name, p.provider, p.descr,
       md5('erp:tenant:' || t)::uuid,
       jsonb_build_object('accountId', p.provider || '-' || (t * 1000 + k),
                          'syncIntervalMinutes', (ARRAY[15, 60, 1440, 5])[k],
                          'mapping', jsonb_build_object('currency', (ARRAY['USD', 'CHF', 'JPY'])[t],
                                                        'fields', jsonb_build_array('amount', 'sku', jsonb_build_object('from', 'qty', 'to', 'quantity')))),
       'v1:aes-256-gcm:' || encode(substr(sha256(convert_to('erp:iv:' || t || ':' || k, 'UTF8')), 1, 12), 'base64')
         || ':' || encode(sha256(convert_to('erp:cred:' || t || ':' || k, 'UTF8')) || sha256(convert_to('erp:cred2:' || t || ':' || k, 'UTF8')), 'base64')
         || ':' || encode(substr(sha256(convert_to('erp:tag:' || t || ':' || k, 'UTF8')), 1, 16), 'base64'),
       st::"IntegrationStatus",
       st = 'ACTIVE',
       CASE WHEN st IN ('ACTIVE', 'ERROR') THEN timestamp '2025-02-01 00:00:00.125' + (t * 10 + k) * interval '37 minutes' END,
       CASE st WHEN 'ACTIVE' THEN 'success' WHEN 'ERROR' THEN 'failed' END,
       CASE WHEN st = 'ERROR' THEN 'HTTP 401: token expired — "re-authorize" required' END,
       timestamp '2024-03-01 12:00:00' + (t * 10 + k) * interval '1 day',
       timestamp '2025-02-01 12:00:00' + (t * 10 + k) * interval '1 hour'
FROM generate_series(1, 3) AS t
CROSS JOIN (VALUES (1, 'Meta Ads', 'meta-ads', 'Facebook & Instagram ad spend'),
                   (2, 'Point of Sale', 'pos', NULL),
                   (3, 'Shopify Store', 'shopify', 'Online orders 🛒'),
                   (4, 'Google Analytics 4', 'google-analytics', 'Web traffic')) AS p(k, name, provider, descr)
CROSS JOIN LATERAL (SELECT (ARRAY['ACTIVE', 'ERROR', 'PENDING', 'DISABLED'])[1 + (k + t) % 4] AS st) AS s;

-- ---------------------------------------------------------------------------
-- analytics_events: exactly :rows rows.
-- Bulk-load pattern (as pg_restore does it): secondary indexes and foreign keys of the main table are
-- stashed, dropped, and re-created with identical definitions after the insert; re-adding a FOREIGN KEY
-- validates every row in one set-based query. All inside this script's transaction.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE _stash ON COMMIT DROP AS
  SELECT 1 AS ord, 'DROP INDEX ' || i.indexrelid::regclass AS drop_sql, pg_get_indexdef(i.indexrelid) AS restore_sql
  FROM pg_index i
  WHERE i.indrelid = '"analytics_events"'::regclass
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 2, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
         'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE c.conrelid = '"analytics_events"'::regclass AND c.contype = 'f';
SELECT drop_sql FROM _stash ORDER BY ord, restore_sql \gexec

CREATE TEMP TABLE _tenants ON COMMIT DROP AS
  SELECT t, md5('erp:tenant:' || t)::uuid AS tid FROM generate_series(1, 3) AS t;
ANALYZE _tenants;

INSERT INTO "analytics_events" ("id", "tenantId", "eventType", "eventName", "properties", "source", "sourceId", "timestamp")
SELECT md5('erp:event:' || e.i)::uuid,
       tn.tid,
       (ARRAY['page_view', 'purchase', 'ad_impression', 'ad_click', 'pos_sale', 'refund', 'signup'])[e.k],
       (ARRAY['Page Viewed', 'Order Completed', 'Ad Impression', 'Ad Clicked', 'POS Sale', 'Refund Issued', 'User Signed Up'])[e.k],
       CASE e.k
         WHEN 1 THEN jsonb_build_object('path', (ARRAY['/', '/produits/café', '/カート', '/search?q=a,b&c="d"'])[1 + e.i % 4],
                                        'durationMs', e.i % 60000,
                                        'device', jsonb_build_object('os', (ARRAY['iOS', 'Android', 'Windows'])[1 + e.i % 3], 'screen', jsonb_build_array(1920, 1080)))
         WHEN 2 THEN jsonb_build_object('orderId', 'ORD-' || e.i,
                                        'amount', round((e.i % 100000) / 100.0 + 0.99, 2),
                                        'currency', (ARRAY['USD', 'CHF', 'JPY'])[e.t],
                                        'items', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (e.i % 500), 'qty', 1 + e.i % 4),
                                                                   jsonb_build_object('sku', 'SKU-' || (e.i % 313), 'qty', 1)))
         WHEN 3 THEN jsonb_build_object('campaignId', 'cmp_' || (e.i % 50), 'costMicros', (e.i::bigint * 1234567) % 100000000000)
         WHEN 4 THEN jsonb_build_object('campaignId', 'cmp_' || (e.i % 50), 'creative', 'Été 2025 ☀️', 'position', e.i % 10)
         WHEN 5 THEN jsonb_build_object('storeId', 'store-' || (e.i % 12), 'total', (e.i % 50000) - 1000,
                                        'paymentMethod', (ARRAY['cash', 'card', 'qr'])[1 + e.i % 3], 'cashier', NULL)
         WHEN 6 THEN jsonb_build_object('orderId', 'ORD-' || (e.i - 5), 'amount', -round((e.i % 50000) / 100.0 + 0.5, 2), 'reason', 'défectueux')
         ELSE jsonb_build_object('plan', 'trial', 'referrer', CASE WHEN e.i % 2 = 0 THEN 'https://t.co/xyz' END, 'utm', '{}'::jsonb)
       END
       || CASE WHEN e.i = 2 THEN '{"bigIntId": 9007199254740993, "tiny": -0.000001, "big": 123456789012.345678}'::jsonb ELSE '{}'::jsonb END,
       CASE WHEN e.i % 9 = 0 THEN NULL ELSE (ARRAY['web', 'shopify', 'meta-ads', 'meta-ads', 'pos', 'shopify', 'web'])[e.k] END,
       CASE WHEN e.i % 4 = 0 THEN NULL ELSE 'src_' || (ARRAY['web', 'shp', 'fb', 'fb', 'pos', 'shp', 'web'])[e.k] || '_' || e.i END,
       timestamp '2024-01-01 00:00:00' + e.i * interval '7.123456 seconds'
FROM (SELECT i, (i - 1) % 3 + 1 AS t, 1 + ((i - 1) / 3) % 7 AS k FROM generate_series(1, :rows_n) AS i) e
JOIN _tenants tn ON tn.t = e.t;

SELECT restore_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- ---------------------------------------------------------------------------
-- audit_logs
-- ---------------------------------------------------------------------------
INSERT INTO "audit_logs" ("id", "tenantId", "userId", "action", "resource", "resourceId", "changes",
                          "ipAddress", "userAgent", "createdAt")
SELECT md5('erp:audit:' || j)::uuid,
       md5('erp:tenant:' || t)::uuid,
       CASE WHEN j % 10 = 0 THEN NULL ELSE md5('erp:user:' || t || ':' || (1 + j % 12))::uuid END,
       a.action, a.resource,
       CASE a.resource WHEN 'user' THEN md5('erp:user:' || t || ':' || (1 + j % 12))::text
                       WHEN 'integration' THEN md5('erp:integration:' || t || ':' || (1 + j % 4))::text END,
       CASE a.action
         WHEN 'user.updated' THEN jsonb_build_object('before', jsonb_build_object('role', 'USER', 'status', 'ACTIVE'),
                                                     'after', jsonb_build_object('role', 'ADMIN', 'status', 'ACTIVE'))
         WHEN 'integration.synced' THEN jsonb_build_object('rows', j * 17, 'errors', jsonb_build_array())
         ELSE '{}'::jsonb END,
       CASE WHEN j % 7 = 0 THEN NULL WHEN j % 3 = 0 THEN '2001:db8::' || to_hex(j) ELSE '203.0.113.' || (j % 255) END,
       CASE WHEN j % 7 = 0 THEN NULL ELSE 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15' END,
       timestamp '2024-02-01 00:00:00' + j * interval '13 minutes 7.891 seconds'
FROM generate_series(1, :audit_n) AS j
CROSS JOIN LATERAL (SELECT 1 + (j - 1) % 3 AS t) AS tt
CROSS JOIN LATERAL (SELECT (ARRAY['user.created', 'user.updated', 'integration.synced', 'login', 'tenant.settings.updated'])[1 + j % 5] AS action,
                           (ARRAY['user', 'user', 'integration', 'session', 'tenant'])[1 + j % 5] AS resource) AS a;

COMMIT;

ANALYZE;
