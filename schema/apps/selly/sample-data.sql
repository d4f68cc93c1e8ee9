-- Selly Base deterministic sample data.
--   psql -v ON_ERROR_STOP=1 -v rows=N -f sample-data.sql      (on a database loaded with schema.sql)
--
-- `rows` = exact number of rows in the main fact table "companies", spread round-robin over the 3
-- organizations (company i belongs to organization ((i-1) % 3) + 1; all are customer data,
-- is_shared_data = false). No randomness: ids are md5(<key>)::uuid, timestamps a fixed epoch + offsets.
--
-- Tenants (organizations.id):
--   org 1 = md5('selly:organization:1')::uuid = 'fa77e9e5-7412-1f3c-8d2a-883a3d86d5f3'  slug 'albaly'            enterprise
--   org 2 = md5('selly:organization:2')::uuid = '19a24166-057b-0fd1-6658-668091cb313b'  slug 'demo-customer'     professional
--   org 3 = md5('selly:organization:3')::uuid = '68879ce4-a90d-ee55-d4cd-f45a1d00564b'  slug 'sample-enterprise' enterprise
-- Other ids:
--   roles         : md5('selly:role:<name>')   global; platform_admin, platform_staff, customer_admin, customer_staff,
--                   customer_user, admin, staff, user
--   users         : md5('selly:user:<c>:<u>')  u = 1..8 per org (u = 1 customer_admin, 2..3 customer_staff, others
--                   customer_user); md5('selly:user:platform:1|2') are platform users with organization_id NULL
--   companies     : md5('selly:company:<i>')   i = 1..rows
--   contacts      : md5('selly:contact:<j>')   j = 1..rows/8, contact j belongs to company j*8 - (j % 8)
--   company_lists : md5('selly:list:<c>:<l>')  l = 1..4; items md5('selly:list_item:<c>:<l>:<k>'), k < 25
--   export_jobs   : md5('selly:export:<c>:<k>'), import_jobs md5('selly:import:<c>:<k>'), audit_logs md5('selly:audit:<j>')

\set ON_ERROR_STOP 1
\if :{?rows}
\else
  \echo 'sample-data.sql: pass the main-table row count with  psql -v rows=N'
  DO $$ BEGIN RAISE EXCEPTION 'sample-data.sql requires -v rows=N'; END $$;
\endif

SET TIME ZONE 'UTC';
SET maintenance_work_mem = '256MB';   -- session-local: faster index (re)builds
SELECT (:'rows')::int AS rows_n \gset
SELECT :rows_n / 8 AS contacts_n, greatest(30, :rows_n / 50) AS audit_n \gset

BEGIN;

-- ---------------------------------------------------------------------------
-- organizations, roles, users, user_roles
-- ---------------------------------------------------------------------------
INSERT INTO organizations (id, name, slug, domain, status, subscription_tier, settings, metadata, created_at, updated_at)
SELECT md5('selly:organization:' || c)::uuid,
       (ARRAY['Albaly Digital', 'Demo Customer Corp — บริษัท เดโม จำกัด', 'Sample Enterprise Ltd 🏢'])[c],
       (ARRAY['albaly', 'demo-customer', 'sample-enterprise'])[c],
       (ARRAY['albaly.example', NULL, 'sample-enterprise.example'])[c],
       'active',
       (ARRAY['enterprise', 'professional', 'enterprise'])[c],
       (ARRAY['{"locale": "th-TH", "defaultCurrency": "THB", "features": {"smartLists": true, "exports": {"maxRows": 100000, "formats": ["CSV", "Excel"]}}}',
              '{}',
              '{"locale": "en-GB", "sso": {"enabled": false}}'])[c]::jsonb,
       (ARRAY['{"crm": {"accountId": 42, "owner": "Somchai"}}', '{"trialEndsAt": "2025-12-31"}', NULL])[c]::jsonb,
       timestamptz '2024-01-15 03:00:00.000001+00' + c * interval '7 days',
       timestamptz '2025-01-15 03:00:00.000002+00' + c * interval '7 days'
FROM generate_series(1, 3) AS c;

INSERT INTO roles (id, name, description, is_system_role, permissions, created_at, updated_at)
SELECT md5('selly:role:' || name)::uuid, name, descr, sys, perms,
       timestamptz '2024-01-01 00:00:00+00' + ord * interval '1 minute',
       timestamptz '2024-01-01 00:00:00+00' + ord * interval '1 minute'
FROM (VALUES
  (1, 'platform_admin', 'Platform Administrator with full system access', true, ARRAY['*']),
  (2, 'platform_staff', 'Platform staff with limited system access', true, ARRAY['platform:read', 'organizations:read', 'users:read']),
  (3, 'customer_admin', 'Organization administrator with full organization access', true, ARRAY['org:*', 'users:*', 'lists:*', 'projects:*']),
  (4, 'customer_staff', 'Organization staff with limited access', true, ARRAY['projects:*', 'lists:*', 'companies:read']),
  (5, 'customer_user', 'Basic organization user', true, ARRAY['lists:create', 'lists:read:own', 'companies:read', 'contacts:read']),
  (6, 'admin', 'Legacy admin role', true, ARRAY['org:*', 'users:*', 'lists:*', 'projects:*']),
  (7, 'staff', 'Legacy staff role', true, ARRAY['projects:*', 'lists:*', 'companies:read']),
  (8, 'user', 'Legacy user role — "read, create"', false, ARRAY['lists:create', 'lists:read:own', 'companies:read'])
) AS r(ord, name, descr, sys, perms);

INSERT INTO users (id, organization_id, email, name, password_hash, avatar_url, status, last_login_at,
                   email_verified_at, settings, metadata, created_at, updated_at)
SELECT md5('selly:user:' || k)::uuid,
       CASE WHEN c IS NULL THEN NULL ELSE md5('selly:organization:' || c)::uuid END,
       email, name,
       '$argon2id$v=19$m=65536,t=3,p=4$'
         || rtrim(encode(substr(sha256(convert_to('selly:salt:' || k, 'UTF8')), 1, 16), 'base64'), '=') || '$'
         || rtrim(encode(sha256(convert_to('selly:pw:' || k, 'UTF8')), 'base64'), '='),
       CASE WHEN n % 3 = 0 THEN 'https://cdn.selly.example/avatars/' || md5('selly:avatar:' || k) || '.webp' END,
       CASE WHEN n = 8 THEN 'suspended' WHEN n = 7 THEN 'inactive' ELSE 'active' END,
       CASE WHEN n >= 7 THEN NULL ELSE timestamptz '2025-03-01 01:00:00+00' + n * interval '5 hours 0.000017 seconds' END,
       CASE WHEN n = 6 THEN NULL ELSE timestamptz '2024-02-01 01:00:00+00' + n * interval '1 day' END,
       CASE WHEN n % 2 = 0 THEN '{"theme": "dark", "notifications": {"email": true, "digest": "weekly"}}'::jsonb ELSE '{}'::jsonb END,
       '{}'::jsonb,
       timestamptz '2024-02-01 00:00:00.5+00' + n * interval '1 hour',
       timestamptz '2024-08-01 00:00:00.5+00' + n * interval '1 hour'
FROM (
  SELECT c || ':' || u AS k, c, u AS n,
         CASE WHEN u = 1 THEN 'admin@' ELSE (ARRAY['', 'staff', 'staff2', 'somchai', 'zoe', 'yuki', 'nattaya', 'former'])[u] || '@' END
           || (ARRAY['albaly.example', 'democustomer.example', 'sampleenterprise.example'])[c] AS email,
         CASE WHEN u = 1 THEN 'Admin ' || c
              ELSE (ARRAY['', 'Staff Member', 'Staff Two', 'สมชาย ใจดี', 'Zoë Dupont', '山田 由紀', 'ณัฐยา ศรีสุข', 'Former Employee'])[u] END AS name
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 8) AS u
  UNION ALL
  SELECT 'platform:' || p, NULL, p, (ARRAY['platform@albaly.example', 'Support@Albaly.example'])[p],
         (ARRAY['Platform Admin', 'Platform Staff'])[p]
  FROM generate_series(1, 2) AS p
) AS s;

INSERT INTO user_roles (id, user_id, role_id, organization_id, assigned_by, assigned_at, expires_at)
SELECT md5('selly:user_role:' || c || ':' || u)::uuid,
       md5('selly:user:' || c || ':' || u)::uuid,
       md5('selly:role:' || CASE WHEN u = 1 THEN 'customer_admin' WHEN u <= 3 THEN 'customer_staff'
                                 WHEN c = 3 AND u = 4 THEN 'user' ELSE 'customer_user' END)::uuid,
       md5('selly:organization:' || c)::uuid,
       CASE WHEN u = 1 THEN md5('selly:user:platform:1')::uuid ELSE md5('selly:user:' || c || ':1')::uuid END,
       timestamptz '2024-02-02 09:00:00.123456+00' + (c * 10 + u) * interval '1 hour',
       CASE WHEN u = 5 THEN timestamptz '2026-06-30 23:59:59.999999+00' END
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 8) AS u
UNION ALL
SELECT md5('selly:user_role:platform:' || p)::uuid,
       md5('selly:user:platform:' || p)::uuid,
       md5('selly:role:' || (ARRAY['platform_admin', 'platform_staff'])[p])::uuid,
       md5('selly:organization:1')::uuid,
       md5('selly:user:platform:1')::uuid,
       timestamptz '2024-01-20 00:00:00+00', NULL
FROM generate_series(1, 2) AS p;

-- ---------------------------------------------------------------------------
-- companies: exactly :rows rows.
-- Bulk-load pattern (as pg_restore does it): secondary indexes and foreign keys of companies and
-- company_contacts are stashed, dropped, and re-created with identical definitions after both inserts;
-- re-adding a FOREIGN KEY validates every row in one set-based query. All inside this script's transaction.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE _stash ON COMMIT DROP AS
  SELECT 1 AS ord, 'DROP INDEX ' || i.indexrelid::regclass AS drop_sql, pg_get_indexdef(i.indexrelid) AS restore_sql
  FROM pg_index i
  WHERE i.indrelid IN ('companies'::regclass, 'company_contacts'::regclass)
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 2, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
         'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE c.conrelid IN ('companies'::regclass, 'company_contacts'::regclass) AND c.contype = 'f';
SELECT drop_sql FROM _stash ORDER BY ord, restore_sql \gexec

CREATE TEMP TABLE _orgs ON COMMIT DROP AS
  SELECT c, md5('selly:organization:' || c)::uuid AS oid FROM generate_series(1, 3) AS c;
CREATE TEMP TABLE _users ON COMMIT DROP AS
  SELECT c, u, md5('selly:user:' || c || ':' || u)::uuid AS uid
  FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 8) AS u;
ANALYZE _orgs; ANALYZE _users;

INSERT INTO companies (id, organization_id, name_en, name_th, name_local, primary_registration_no,
                       registration_country_code, duns_number, address_line_1, address_line_2, subdistrict,
                       district, province, postal_code, country_code, latitude, longitude,
                       business_description, established_date, employee_count_estimate, company_size,
                       annual_revenue_estimate, currency_code, website_url, linkedin_url, facebook_url,
                       primary_email, primary_phone, logo_url, industry_classification, tags,
                       data_quality_score, data_source, source_reference, is_shared_data, data_sensitivity,
                       last_enriched_at, verification_status, created_at, updated_at, created_by, updated_by)
SELECT md5('selly:company:' || s.i)::uuid,
       o.oid,
       (ARRAY['Siam Trading', 'Bangkok Logistics', 'Chiang Mai Coffee Roasters', 'Phuket Marine Services',
              'Krungthep Software', 'Isan Agro Products', 'Pattaya Hospitality Group', 'Thai "Premium" Rice Exporters'])[1 + s.i % 8]
         || ' Co., Ltd. #' || s.i,
       CASE WHEN s.i % 5 >= 2 THEN NULL
            ELSE (ARRAY['บริษัท สยามเทรดดิ้ง จำกัด', 'บริษัท บางกอก โลจิสติกส์ จำกัด', 'ห้างหุ้นส่วนจำกัด เชียงใหม่ คอฟฟี่',
                        'บริษัท ภูเก็ต มารีน เซอร์วิส จำกัด (มหาชน)'])[1 + s.i % 4] END,
       CASE WHEN s.i % 7 = 0 THEN (ARRAY['東京商事株式会社', 'Société Générale d''Import', 'Müller & Söhne GmbH', '🚀 Rocket Ventures'])[1 + s.i % 4] END,
       CASE WHEN s.i % 6 = 0 THEN NULL ELSE lpad(((s.i::bigint * 7919 + 105500000000) % 10000000000000)::text, 13, '0') END,
       CASE WHEN s.i % 50 = 0 THEN 'SG' ELSE 'TH' END,
       CASE WHEN s.i % 3 = 0 THEN lpad(((s.i::bigint * 104729) % 1000000000)::text, 9, '0') END,
       CASE WHEN s.i % 9 = 0 THEN NULL ELSE (s.i % 999 + 1) || '/' || (s.i % 77 + 1) || ' ถนนสุขุมวิท (Sukhumvit Rd.)' END,
       CASE WHEN s.i % 4 = 0 THEN 'Floor ' || (s.i % 40 + 1) || ', Tower "A", Unit 12,B' END,
       CASE WHEN s.i % 9 = 0 THEN NULL ELSE (ARRAY['คลองเตย', 'ลุมพินี', 'ช้างเผือก', 'ป่าตอง'])[1 + s.i % 4] END,
       CASE WHEN s.i % 9 = 0 THEN NULL ELSE (ARRAY['Khlong Toei', 'Pathum Wan', 'Mueang Chiang Mai', 'Kathu'])[1 + s.i % 4] END,
       CASE WHEN s.i % 9 = 0 THEN NULL ELSE (ARRAY['กรุงเทพมหานคร', 'Bangkok', 'เชียงใหม่', 'ภูเก็ต'])[1 + s.i % 4] END,
       CASE WHEN s.i % 9 = 0 THEN NULL ELSE (ARRAY['10110', '10330', '50300', '83150'])[1 + s.i % 4] END,
       CASE WHEN s.i % 50 = 0 THEN 'SG' ELSE 'TH' END,
       CASE WHEN s.i % 8 = 0 THEN NULL ELSE round(5.6 + (s.i % 14000) / 1000.0 + (s.i % 997) / 100000000.0, 8) END,
       CASE WHEN s.i % 8 = 0 THEN NULL ELSE round(97.3 + (s.i % 8000) / 1000.0 + (s.i % 991) / 100000000.0, 8) END,
       CASE WHEN s.i % 3 <> 0 THEN NULL
            ELSE 'B2B supplier of ' || (ARRAY['office supplies', 'ซอฟต์แวร์ระบบบัญชี', 'cold-chain logistics', 'organic coffee ☕'])[1 + s.i % 4]
                 || E'.\nServing customers since ' || (1980 + s.i % 44) || '.' END,
       CASE WHEN s.i % 10 = 0 THEN NULL ELSE date '1980-01-01' + (s.i * 37) % 16000 END,
       CASE WHEN s.i % 11 = 0 THEN NULL WHEN s.i % 997 = 0 THEN 250000 ELSE (s.i * 13) % 5000 END,
       CASE WHEN s.i % 11 = 0 THEN NULL
            ELSE (ARRAY['micro', 'small', 'medium', 'large', 'enterprise'])[1 + ((s.i * 13) % 5000) / 1000] END,
       CASE WHEN s.i % 12 = 0 THEN NULL WHEN s.i % 1001 = 0 THEN 9999999999999.99
            WHEN s.i % 101 = 0 THEN -2500000.50
            ELSE round((s.i::bigint * 7919 % 100000000000) / 100.0, 2) END,
       CASE WHEN s.i % 50 = 0 THEN 'SGD' ELSE 'THB' END,
       CASE WHEN s.i % 4 = 3 THEN NULL ELSE 'https://www.company' || s.i || '.example.co.th' END,
       CASE WHEN s.i % 5 <> 1 THEN NULL ELSE 'https://www.linkedin.com/company/company-' || s.i END,
       CASE WHEN s.i % 6 <> 2 THEN NULL ELSE 'https://www.facebook.com/company' || s.i END,
       CASE WHEN s.i % 4 = 2 THEN NULL ELSE 'info@company' || s.i || '.example.co.th' END,
       CASE WHEN s.i % 5 = 3 THEN NULL ELSE '+66 2 ' || lpad((s.i % 1000)::text, 3, '0') || ' ' || lpad(((s.i * 7) % 10000)::text, 4, '0') END,
       CASE WHEN s.i % 10 < 7 THEN NULL ELSE 'https://cdn.selly.example/logos/' || s.i || '.png' END,
       CASE WHEN s.i % 10 = 0 THEN '{}'::jsonb
            ELSE (ARRAY['{"tsic": {"code": "46", "title_th": "ขายส่ง"}, "secondary": [{"code": "47", "confidence": 0.4}]}'::jsonb,
                        '{"tsic": {"code": "4610", "level": 4}}'::jsonb,
                        '{"tsic": {"code": "62", "level": 2}, "secondary": []}'::jsonb,
                        '{"tsic": {"code": "01", "level": 2}}'::jsonb,
                        '{"tsic": {"code": "55"}, "isic": "I5510"}'::jsonb])[1 + s.i % 5] END,
       CASE WHEN s.i % 8 = 0 THEN '{}'::text[]
            WHEN s.i % 8 = 1 THEN ARRAY['saas', 'high_priority']
            WHEN s.i % 8 = 2 THEN ARRAY['startup', 'tag, with comma', 'say "hi"']
            WHEN s.i % 8 = 3 THEN NULL
            ELSE ARRAY[(ARRAY['enterprise', 'exporter', 'ส่งออก', 'B2B'])[1 + s.i % 4]] END,
       round(((s.i * 37) % 101) / 100.0, 2),
       (ARRAY['customer_input', 'customer_input', 'data_enrichment', 'third_party', 'dbd_registry', 'albaly_list'])[1 + s.i % 6],
       CASE WHEN s.i % 6 >= 4 THEN (ARRAY['DBD-2024-Q1', 'Albaly-Tech-Companies'])[s.i % 6 - 3] END,
       false,
       (ARRAY['standard', 'standard', 'public', 'confidential', 'restricted'])[1 + s.i % 5],
       CASE WHEN s.i % 3 = 0 THEN timestamptz '2025-01-01 00:00:00+00' + (s.i % 10000) * interval '17 minutes 0.000001 seconds' END,
       (ARRAY['unverified', 'verified', 'verified', 'disputed', 'inactive'])[1 + (s.i / 3) % 5],
       timestamptz '2024-03-01 00:00:00+00' + s.i * interval '13.000007 seconds',
       timestamptz '2024-03-01 00:00:00+00' + s.i * interval '13.000007 seconds' + (s.i % 100) * interval '1 day',
       cu.uid,
       CASE WHEN s.i % 4 = 0 THEN NULL ELSE uu.uid END
FROM (SELECT i, (i - 1) % 3 + 1 AS c FROM generate_series(1, :rows_n) AS i) s
JOIN _orgs o   ON o.c = s.c
JOIN _users cu ON cu.c = s.c AND cu.u = 1 + s.i % 6
JOIN _users uu ON uu.c = s.c AND uu.u = 1 + (s.i / 7) % 3;


-- ---------------------------------------------------------------------------
-- company_contacts (rows / 8): contact j belongs to company j*8 - (j % 8)
-- ---------------------------------------------------------------------------
INSERT INTO company_contacts (id, company_id, first_name, last_name, title, department, seniority_level, email,
                              phone, linkedin_url, confidence_score, last_verified_at, verification_method,
                              is_opted_out, opt_out_date, created_at, updated_at)
SELECT md5('selly:contact:' || j)::uuid,
       md5('selly:company:' || (j * 8 - j % 8))::uuid,
       CASE WHEN j % 13 = 0 THEN NULL ELSE (ARRAY['สมชาย', 'Nattapong', 'Zoë', 'Kittisak', 'Ploy', 'José', 'Haruto', 'Siriporn'])[1 + j % 8] END,
       CASE WHEN j % 17 = 0 THEN NULL ELSE (ARRAY['ใจดี', 'Srisuk', 'Dupont', 'Wongsawat', 'Chaiyaporn', 'O''Neill', '佐藤', 'Boonmee'])[1 + (j * 3) % 8] END,
       CASE WHEN j % 5 = 0 THEN NULL ELSE (ARRAY['Procurement Manager', 'CEO', 'ผู้จัดการฝ่ายขาย', 'Head of IT', 'CFO'])[1 + j % 5] END,
       CASE WHEN j % 6 = 0 THEN NULL ELSE (ARRAY['Procurement', 'Executive', 'Sales', 'IT', 'Finance'])[1 + j % 5] END,
       CASE WHEN j % 7 = 0 THEN NULL ELSE (ARRAY['manager', 'c_level', 'manager', 'director', 'c_level', 'ic', 'vp', 'founder'])[1 + j % 8] END,
       CASE WHEN j % 4 = 0 THEN NULL ELSE 'contact' || j || '@company' || (j * 8 - j % 8) || '.example.co.th' END,
       CASE WHEN j % 3 = 0 THEN NULL ELSE '+66 8' || (j % 10) || ' ' || lpad(((j * 7919) % 10000000)::text, 7, '0') END,
       CASE WHEN j % 5 <> 2 THEN NULL ELSE 'https://www.linkedin.com/in/contact-' || j END,
       round(((j * 29) % 101) / 100.0, 2),
       CASE WHEN j % 3 = 1 THEN NULL ELSE timestamptz '2025-02-01 00:00:00+00' + (j % 5000) * interval '1 hour 0.000003 seconds' END,
       CASE WHEN j % 3 = 1 THEN NULL ELSE (ARRAY['email_bounce', 'phone_call', 'linkedin', 'manual', 'third_party'])[1 + j % 5] END,
       j % 41 = 0,
       CASE WHEN j % 41 = 0 THEN timestamptz '2025-01-31 12:00:00.654321+00' END,
       timestamptz '2024-04-01 00:00:00+00' + j * interval '29.000011 seconds',
       timestamptz '2024-04-01 00:00:00+00' + j * interval '29.000011 seconds' + interval '3 days'
FROM generate_series(1, :contacts_n) AS j;

SELECT restore_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- ---------------------------------------------------------------------------
-- company_lists (4 per org) + items (up to 25 per list, same-org companies)
-- ---------------------------------------------------------------------------
INSERT INTO company_lists (id, organization_id, owner_user_id, name, description, visibility, is_shared,
                           total_companies, last_activity_at, is_smart_list, smart_criteria, last_refreshed_at,
                           created_at, updated_at)
SELECT md5('selly:list:' || c || ':' || l)::uuid,
       md5('selly:organization:' || c)::uuid,
       md5('selly:user:' || c || ':' || (ARRAY[1, 2, 4, 5])[l])::uuid,
       (ARRAY['Q3 Prospects', 'ลูกค้าเป้าหมาย กรุงเทพฯ', 'Tech companies 💻', 'Smart: verified exporters'])[l],
       CASE WHEN l = 3 THEN NULL ELSE 'List ' || l || E' of org ' || c || ', "curated"' END,
       (ARRAY['organization', 'team', 'private', 'public'])[l],
       l <= 2,
       0,
       timestamptz '2025-01-01 00:00:00+00',
       l = 4,
       CASE WHEN l = 4 THEN '{"filters": {"verification_status": ["verified"], "tags": {"any": ["exporter", "ส่งออก"]}, "employees": {"min": 50, "max": null}}}'::jsonb
            ELSE '{}'::jsonb END,
       CASE WHEN l = 4 THEN timestamptz '2025-03-01 06:00:00.000001+00' END,
       timestamptz '2024-05-01 00:00:00+00' + (c * 10 + l) * interval '1 day',
       timestamptz '2024-05-01 00:00:00+00' + (c * 10 + l) * interval '1 day'
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 4) AS l;

INSERT INTO company_list_items (id, list_id, company_id, note, position, custom_fields, lead_score, score_breakdown,
                                score_calculated_at, status, status_changed_at, added_by_user_id, added_at)
SELECT md5('selly:list_item:' || c || ':' || l || ':' || k)::uuid,
       md5('selly:list:' || c || ':' || l)::uuid,
       md5('selly:company:' || i)::uuid,
       CASE k % 4 WHEN 0 THEN NULL WHEN 1 THEN 'Call back next week' WHEN 2 THEN 'ติดต่อแล้ว รอใบเสนอราคา' ELSE 'Met at expo 🎪, "hot" lead' END,
       CASE WHEN l = 4 THEN NULL ELSE k + 1 END,
       CASE WHEN k % 3 = 0 THEN '{}'::jsonb ELSE jsonb_build_object('owner', 'Somchai', 'budgetTHB', k * 150000, 'stage', jsonb_build_object('name', 'demo', 'order', 2)) END,
       CASE WHEN k % 10 = 9 THEN NULL ELSE round(((i * 37 + k) % 10000) / 100.0, 2) END,
       jsonb_build_object('fit', (i * 7) % 50, 'intent', (i * 3) % 50, 'penalty', -(k % 5)),
       CASE WHEN k % 2 = 0 THEN timestamptz '2025-02-15 00:00:00+00' + k * interval '1 hour 0.000001 seconds' END,
       (ARRAY['new', 'contacted', 'qualified', 'converted', 'rejected'])[1 + k % 5],
       timestamptz '2025-02-01 00:00:00+00' + (c * 100 + l * 25 + k) * interval '1 hour',
       md5('selly:user:' || c || ':' || (1 + k % 5))::uuid,
       timestamptz '2025-01-20 00:00:00+00' + (c * 100 + l * 25 + k) * interval '1 hour 0.000002 seconds'
FROM generate_series(1, 3) AS c
CROSS JOIN generate_series(1, 4) AS l
CROSS JOIN generate_series(0, 24) AS k
CROSS JOIN LATERAL (SELECT c + 3 * ((l - 1) * 25 + k) AS i) AS x
WHERE x.i <= :rows_n;

-- the count trigger stamped last_activity_at/updated_at with now(): make them deterministic again
UPDATE company_lists cl
SET last_activity_at = coalesce(s.last_added, timestamptz '2025-01-01 00:00:00+00'),
    updated_at = coalesce(s.last_added, timestamptz '2025-01-01 00:00:00+00') + interval '0.000001 seconds'
FROM (SELECT l.id, max(i.added_at) AS last_added
      FROM company_lists l LEFT JOIN company_list_items i ON i.list_id = l.id GROUP BY l.id) s
WHERE cl.id = s.id;

-- ---------------------------------------------------------------------------
-- export / import jobs
-- ---------------------------------------------------------------------------
INSERT INTO export_jobs (id, organization_id, filename, status, scope, format, total_records, file_size,
                         download_url, requested_by, completed_at, expires_at, error_message, metadata,
                         created_at, updated_at)
SELECT md5('selly:export:' || c || ':' || k)::uuid,
       md5('selly:organization:' || c)::uuid,
       (ARRAY['companies-bangkok', 'รายชื่อบริษัท', 'q3 prospects, final', 'tech_companies', 'full-export'])[k]
         || '-' || c || '.' || lower((ARRAY['csv', 'xlsx', 'json', 'csv', 'csv'])[k]),
       st,
       (ARRAY['list', 'search', 'list', 'all', NULL])[k],
       (ARRAY['CSV', 'Excel', 'JSON', 'CSV', 'CSV'])[k],
       CASE WHEN st = 'queued' THEN 0 ELSE k * 1234 END,
       CASE WHEN st IN ('completed', 'expired') THEN round(k * 1.7, 1) || ' MB' END,
       CASE WHEN st = 'completed' THEN 'https://files.selly.example/exports/' || md5('selly:export-file:' || c || ':' || k) || '.bin' END,
       md5('selly:user:' || c || ':' || k)::uuid,
       CASE WHEN st IN ('completed', 'expired') THEN timestamptz '2025-03-10 10:00:00.000001+00' + (c * 10 + k) * interval '1 hour' END,
       CASE WHEN st IN ('completed', 'expired') THEN timestamptz '2025-03-17 10:00:00+00' + (c * 10 + k) * interval '1 hour' - (k / 5) * interval '30 days' END,
       CASE WHEN st = 'failed' THEN 'Timeout while generating file — retry later' END,
       jsonb_build_object('filters', jsonb_build_object('province', 'กรุงเทพมหานคร', 'size', jsonb_build_array('medium', 'large')), 'columns', k + 10),
       timestamptz '2025-03-10 09:00:00+00' + (c * 10 + k) * interval '1 hour',
       timestamptz '2025-03-10 09:30:00+00' + (c * 10 + k) * interval '1 hour'
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 5) AS k
CROSS JOIN LATERAL (SELECT (ARRAY['completed', 'processing', 'queued', 'failed', 'expired'])[k] AS st) AS x;

INSERT INTO import_jobs (id, organization_id, filename, status, total_records, processed_records, valid_records,
                         error_records, uploaded_by, completed_at, errors, warnings, metadata, created_at, updated_at)
SELECT md5('selly:import:' || c || ':' || k)::uuid,
       md5('selly:organization:' || c)::uuid,
       (ARRAY['leads_march.csv', 'ลูกค้าใหม่.xlsx', 'crm export (1).csv', 'dbd_dump.json'])[k],
       st,
       k * 500,
       CASE st WHEN 'queued' THEN 0 WHEN 'validating' THEN k * 100 WHEN 'processing' THEN k * 250 ELSE k * 500 END,
       CASE st WHEN 'completed' THEN k * 480 WHEN 'failed' THEN k * 300 ELSE 0 END,
       CASE st WHEN 'completed' THEN k * 20 WHEN 'failed' THEN k * 200 ELSE 0 END,
       CASE WHEN k = 4 THEN NULL ELSE md5('selly:user:' || c || ':' || k)::uuid END,
       CASE WHEN st IN ('completed', 'failed') THEN timestamptz '2025-03-12 08:00:00.5+00' + (c * 10 + k) * interval '1 hour' END,
       CASE WHEN st IN ('completed', 'failed')
            THEN jsonb_build_array(jsonb_build_object('row', 17, 'field', 'primary_email', 'message', 'invalid email "foo@"'),
                                   jsonb_build_object('row', 42, 'field', 'name_th', 'message', 'ต้องระบุชื่อบริษัท'))
            ELSE '[]'::jsonb END,
       CASE WHEN k % 2 = 0 THEN '[{"row": 3, "message": "duplicate registration number, merged"}]'::jsonb ELSE '[]'::jsonb END,
       jsonb_build_object('delimiter', ',', 'encoding', 'UTF-8', 'mapping', jsonb_build_object('Company Name', 'name_en', 'ชื่อบริษัท', 'name_th')),
       timestamptz '2025-03-12 07:00:00+00' + (c * 10 + k) * interval '1 hour',
       timestamptz '2025-03-12 07:45:00+00' + (c * 10 + k) * interval '1 hour'
FROM generate_series(1, 3) AS c CROSS JOIN generate_series(1, 4) AS k
CROSS JOIN LATERAL (SELECT (ARRAY['completed', 'validating', 'failed', 'queued'])[k] AS st) AS x;

-- ---------------------------------------------------------------------------
-- audit_logs
-- ---------------------------------------------------------------------------
INSERT INTO audit_logs (id, organization_id, user_id, entity_type, entity_id, action_type, resource_type, resource_path,
                        old_values, new_values, changes, ip_address, user_agent, session_id, request_id,
                        status_code, error_message, metadata, created_at)
SELECT md5('selly:audit:' || j)::uuid,
       md5('selly:organization:' || c)::uuid,
       CASE WHEN j % 10 = 0 THEN NULL ELSE md5('selly:user:' || c || ':' || (1 + j % 8))::uuid END,
       (ARRAY['company', 'company', 'company_list', 'user', 'export_job', 'search'])[1 + j % 6],
       CASE WHEN j % 6 IN (0, 1) AND c + 3 * (j % 1000) <= :rows_n THEN md5('selly:company:' || (c + 3 * (j % 1000)))::uuid
            WHEN j % 6 = 2 THEN md5('selly:list:' || c || ':' || (1 + j % 4))::uuid
            WHEN j % 6 = 3 THEN md5('selly:user:' || c || ':' || (1 + j % 8))::uuid END,
       (ARRAY['UPDATE', 'READ', 'CREATE', 'LOGIN', 'EXPORT', 'SEARCH'])[1 + j % 6],
       (ARRAY['companies', 'companies', 'company-lists', 'auth', 'exports', 'companies'])[1 + j % 6],
       (ARRAY['/api/v1/companies/:id', '/api/v1/companies/:id', '/api/v1/company-lists', '/api/v1/auth/login', '/api/v1/exports', '/api/v1/companies/search?q=กรุงเทพ'])[1 + j % 6],
       CASE WHEN j % 6 = 0 THEN jsonb_build_object('verification_status', 'unverified', 'employee_count_estimate', 10) END,
       CASE WHEN j % 6 = 0 THEN jsonb_build_object('verification_status', 'verified', 'employee_count_estimate', 12) END,
       CASE WHEN j % 6 = 0 THEN '{"verification_status": {"from": "unverified", "to": "verified"}, "employee_count_estimate": {"delta": 2}}'::jsonb END,
       CASE WHEN j % 7 = 0 THEN NULL WHEN j % 2 = 0 THEN ('2001:db8:5e11::' || to_hex(j))::inet ELSE ('203.0.113.' || (j % 250))::inet END,
       CASE WHEN j % 7 = 0 THEN NULL ELSE 'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148' END,
       'sess_' || substr(md5('selly:session:' || (j / 20)), 1, 24),
       'req_' || md5('selly:req:' || j),
       (ARRAY[200, 200, 201, 200, 202, 200, 401, 500])[1 + j % 8],
       CASE (j % 8) WHEN 6 THEN 'Invalid credentials' WHEN 7 THEN 'Internal error: "deadlock detected"' END,
       CASE WHEN j % 3 = 0 THEN jsonb_build_object('durationMs', j % 900, 'tags', jsonb_build_array('api', 'v1')) END,
       timestamptz '2025-01-01 00:00:00+00' + j * interval '3 minutes 0.000013 seconds'
FROM generate_series(1, :audit_n) AS j
CROSS JOIN LATERAL (SELECT 1 + (j - 1) % 3 AS c) AS cc;

COMMIT;

ANALYZE;
