-- Gemini CRM deterministic sample data (single tenant).
--   psql -v ON_ERROR_STOP=1 -v rows=N -f sample-data.sql      (on a database loaded with schema.sql)
--
-- `rows` = exact number of rows in the main fact tables "Orders" + "OrderItems" TOGETHER:
--   orders = ceil(rows / 4), order items = rows - orders (about 3 items per order; item j belongs to
--   order ((j-1) % orders) + 1). Orders."total" = sum(quantity * price) of its items.
-- No randomness: every value is derived from the row ordinal. Rows are inserted WITHOUT ids so the SERIAL
-- sequences advance normally; references are resolved by ordinal (k-th new row by id) through temp maps,
-- so the script also works when the sequences do not start at 1.
-- Fixed-size tables: 12 Users (first = admin@geminicrm.com), 201 Products (product 201 is a 99,999,999.99
-- showroom item never ordered; one product has negative stock), Customers = greatest(50, least(5000, rows/200))
-- (the last 5 have no orders, one of them carries a negative "totalPurchases" credit), 40 Notifications.

\set ON_ERROR_STOP 1
\if :{?rows}
\else
  \echo 'sample-data.sql: pass the main-table row count with  psql -v rows=N'
  DO $$ BEGIN RAISE EXCEPTION 'sample-data.sql requires -v rows=N'; END $$;
\endif

SET TIME ZONE 'UTC';
SELECT (:'rows')::int AS rows_n \gset
SELECT (:rows_n + 3) / 4 AS orders_n \gset
SELECT :rows_n - :orders_n AS items_n, greatest(50, least(5000, :rows_n / 200)) AS customers_n \gset

BEGIN;

-- ---------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------
SELECT coalesce(max("id"), 0) AS base FROM "Users" \gset
INSERT INTO "Users" ("firstName", "lastName", "email", "password", "role", "createdAt", "updatedAt")
SELECT CASE g WHEN 1 THEN 'Admin' WHEN 2 THEN 'Staff'
              ELSE (ARRAY['Zoë', 'José', 'Aiko', 'Paweł', 'Inès', 'Bjørn', 'Chidi', 'Lucía', '明', 'Siobhán'])[g - 2] END,
       CASE g WHEN 1 THEN 'User' WHEN 2 THEN 'User'
              ELSE (ARRAY['Durand', 'García', 'Yamamoto', 'Zieliński', 'Benali', 'Halvorsen', 'Okafor', 'Fernández', '王', 'O''Sullivan'])[g - 2] END,
       CASE g WHEN 1 THEN 'admin@geminicrm.com' WHEN 2 THEN 'staff@geminicrm.com'
              ELSE 'staff' || g || '@geminicrm.com' END,
       '$2b$10$' || substr(translate(encode(sha256(convert_to('gemini:pw:' || g, 'UTF8')), 'base64')
                                  || encode(sha256(convert_to('gemini:pw2:' || g, 'UTF8')), 'base64'), '+/=', './'), 1, 53),
       CASE WHEN g IN (1, 7) THEN 'admin' WHEN g = 12 THEN NULL ELSE 'staff' END,
       timestamptz '2025-01-01 08:00:00.000001+00' + g * interval '1 day 1.000001 seconds',
       timestamptz '2025-01-01 08:00:00.000001+00' + g * interval '2 days 1.000002 seconds'
FROM generate_series(1, 12) AS g ORDER BY g;
CREATE TEMP TABLE _users ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY "id") AS g, "id" FROM "Users" WHERE "id" > :base;

-- ---------------------------------------------------------------------------
-- Customers
-- ---------------------------------------------------------------------------
SELECT coalesce(max("id"), 0) AS base FROM "Customers" \gset
INSERT INTO "Customers" ("firstName", "lastName", "email", "phone", "address", "totalPurchases", "createdAt", "updatedAt")
SELECT CASE WHEN g % 17 = 0 THEN NULL
            ELSE (ARRAY['Zoë', 'Mohammed', 'Sakura', 'Łucja', 'Renée', 'Ægir', 'Oluwaseun', 'María José', '小明', 'D''Arcy', 'Jürgen', 'Ngọc'])[1 + g % 12] END,
       CASE WHEN g % 19 = 0 THEN NULL
            ELSE (ARRAY['Schmidt', 'Al-Farsi', 'Watanabe', 'Nowak', 'Lévesque', 'Sigurðsson', 'Adeyemi', 'López', '李', 'Kelly-O''Neil', 'Groß 🎉', 'Trần'])[1 + (g * 5) % 12] END,
       CASE WHEN g % 6 = 0 THEN NULL ELSE 'customer' || g || '@' || (ARRAY['mail.example', 'exemple.fr', 'example.co.jp'])[1 + g % 3] END,
       CASE WHEN g % 5 = 0 THEN NULL ELSE '+1 (555) ' || lpad((g % 1000)::text, 3, '0') || '-' || lpad(((g * 37) % 10000)::text, 4, '0') END,
       CASE WHEN g % 4 = 0 THEN NULL
            WHEN g % 4 = 1 THEN g || ' Main St, Apt "B", Springfield, IL 62704'
            WHEN g % 4 = 2 THEN E'東京都渋谷区神南1-' || g || E'\n150-0041 Japan'
            ELSE g || ', rue de la Paix, 75002 Paris' END,
       CASE WHEN g = :customers_n - 1 THEN -150.00 ELSE 0.00 END,
       timestamptz '2025-01-05 00:00:00+00' + g * interval '37 minutes 0.000003 seconds',
       timestamptz '2025-01-05 00:00:00+00' + g * interval '41 minutes 0.000005 seconds'
FROM generate_series(1, :customers_n) AS g ORDER BY g;
CREATE TEMP TABLE _customers ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY "id") AS g, "id" FROM "Customers" WHERE "id" > :base;

-- ---------------------------------------------------------------------------
-- Products (price of product p <= 200: round(((p * 7919) % 200000) / 100.0 + 0.99, 2))
-- ---------------------------------------------------------------------------
SELECT coalesce(max("id"), 0) AS base FROM "Products" \gset
INSERT INTO "Products" ("name", "description", "price", "stock", "category", "image", "createdAt", "updatedAt")
SELECT CASE WHEN g = 201 THEN 'Showroom yacht (display only) 🛥️'
            ELSE (ARRAY['Café Latte Beans', 'Wireless Mouse', '抹茶 Matcha Powder', 'Crème Brûlée Kit', 'USB-C Cable 2m', 'Organic Tea "Earl Grey"', 'Smørrebrød Plate', 'Notebook A5, dotted'])[1 + g % 8] || ' #' || g END,
       CASE WHEN g % 3 = 0 THEN NULL ELSE 'Premium quality — qualité supérieure — 高品質. SKU ' || g END,
       CASE WHEN g = 201 THEN 99999999.99 ELSE round(((g * 7919) % 200000) / 100.0 + 0.99, 2) END,
       CASE WHEN g = 13 THEN -5 WHEN g = 14 THEN NULL WHEN g = 201 THEN 1 ELSE (g * 13) % 120 END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE (ARRAY['Beverages', 'Electronics', 'Épicerie fine', '食品', 'Office'])[1 + g % 5] END,
       CASE WHEN g % 4 = 0 THEN NULL ELSE '/uploads/products/' || g || '.jpg' END,
       timestamptz '2025-01-03 00:00:00+00' + g * interval '1 hour 0.000007 seconds',
       timestamptz '2025-01-03 00:00:00+00' + g * interval '2 hours 0.000009 seconds'
FROM generate_series(1, 201) AS g ORDER BY g;
CREATE TEMP TABLE _products ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY "id") AS g, "id" FROM "Products" WHERE "id" > :base;
ANALYZE _users; ANALYZE _customers; ANALYZE _products;

-- ---------------------------------------------------------------------------
-- Orders + OrderItems: exactly :rows rows together.
-- Bulk-load pattern (as pg_restore does it): secondary indexes and foreign keys of the two fact tables
-- are stashed, dropped, and re-created with identical definitions after the inserts; re-adding a FOREIGN
-- KEY validates every row in one set-based query. All inside this script's transaction.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE _stash ON COMMIT DROP AS
  SELECT 1 AS ord, 'DROP INDEX ' || i.indexrelid::regclass AS drop_sql, pg_get_indexdef(i.indexrelid) AS restore_sql
  FROM pg_index i
  WHERE i.indrelid IN ('"Orders"'::regclass, '"OrderItems"'::regclass)
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  UNION ALL
  SELECT 2, 'ALTER TABLE ' || c.conrelid::regclass || ' DROP CONSTRAINT ' || quote_ident(c.conname),
         'ALTER TABLE ' || c.conrelid::regclass || ' ADD CONSTRAINT ' || quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
  FROM pg_constraint c
  WHERE c.conrelid IN ('"Orders"'::regclass, '"OrderItems"'::regclass) AND c.contype = 'f';
SELECT drop_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- item j: product p(j) = 1 + (j * 7 + j / 3) % 200, quantity q(j) = 1 + j % 5 (item 2 is a return line: -1)
SELECT coalesce(max("id"), 0) AS base FROM "Orders" \gset
INSERT INTO "Orders" ("customerId", "createdBy", "status", "total", "notes", "createdAt", "updatedAt")
SELECT CASE WHEN o % 50 = 0 THEN NULL ELSE cu."id" END,
       CASE WHEN o % 13 = 0 THEN NULL ELSE us."id" END,
       CASE WHEN o % 97 = 0 THEN NULL
            ELSE (ARRAY['pending', 'processing', 'completed', 'completed', 'completed', 'cancelled'])[1 + (o / 2) % 6] END,
       coalesce((SELECT sum((CASE WHEN j = 2 THEN -1 ELSE 1 + j % 5 END)
                            * round(((((1 + (j * 7 + j / 3) % 200)) * 7919) % 200000) / 100.0 + 0.99, 2))
                 FROM generate_series(o, :items_n, :orders_n) AS j), 0),
       CASE o % 8
         WHEN 0 THEN 'Deliver after 5pm, ring twice'
         WHEN 1 THEN 'Cadeau — emballage, s''il vous plaît 🎁'
         WHEN 2 THEN '領収書が必要です'
         WHEN 3 THEN E'Line 1\nLine 2, with "quotes"'
         ELSE NULL END,
       timestamptz '2025-02-01 00:00:00+00' + o * interval '11.000001 seconds',
       timestamptz '2025-02-01 00:00:00+00' + o * interval '11.000001 seconds' + (o % 48) * interval '1 hour'
FROM generate_series(1, :orders_n) AS o
JOIN _customers cu ON cu.g = 1 + (o - 1) % (:customers_n - 5)
JOIN _users us ON us.g = 1 + o % 12
ORDER BY o;
CREATE TEMP TABLE _orders ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY "id") AS g, "id", "createdAt" FROM "Orders" WHERE "id" > :base;
ANALYZE _orders;

INSERT INTO "OrderItems" ("orderId", "productId", "quantity", "price", "createdAt", "updatedAt")
SELECT od."id",
       pr."id",
       CASE WHEN j = 2 THEN -1 ELSE 1 + j % 5 END,
       round(((((1 + (j * 7 + j / 3) % 200)) * 7919) % 200000) / 100.0 + 0.99, 2),
       od."createdAt" + (j % 1000) * interval '1 microsecond',
       od."createdAt" + (j % 1000) * interval '1 microsecond'
FROM generate_series(1, :items_n) AS j
JOIN _orders od ON od.g = (j - 1) % :orders_n + 1
JOIN _products pr ON pr.g = 1 + (j * 7 + j / 3) % 200
ORDER BY j;

SELECT restore_sql FROM _stash ORDER BY ord, restore_sql \gexec

-- lifetime value of completed orders
UPDATE "Customers" c SET "totalPurchases" = s.total
FROM (SELECT "customerId", sum("total") AS total FROM "Orders"
      WHERE "status" = 'completed' AND "customerId" IS NOT NULL GROUP BY "customerId") s
WHERE c."id" = s."customerId";

-- ---------------------------------------------------------------------------
-- Notifications
-- ---------------------------------------------------------------------------
SELECT coalesce(max("id"), 0) AS base FROM "Notifications" \gset
INSERT INTO "Notifications" ("type", "title", "message", "data", "priority", "createdBy", "createdAt", "updatedAt")
SELECT (ARRAY['order_created', 'low_stock', 'customer_signup', 'system'])[1 + n % 4],
       (ARRAY['New order received', 'Stock bas : réapprovisionner', '新しい顧客', 'Maintenance 🛠️'])[1 + n % 4] || ' #' || n,
       'Notification ' || n || E' — details:\n' || (ARRAY['Order total exceeded $1,000', 'Only 3 left', 'Welcome aboard', 'Downtime 02:00–03:00 UTC'])[1 + n % 4],
       CASE WHEN n % 5 = 0 THEN NULL
            ELSE jsonb_build_object('entity', (ARRAY['order', 'product', 'customer', 'system'])[1 + n % 4],
                                    'entityId', n * 3,
                                    'meta', jsonb_build_object('threshold', 10, 'delta', -n, 'tags', jsonb_build_array('a,b', 'c"d'))) END,
       CASE WHEN n % 9 = 0 THEN NULL ELSE (ARRAY['low', 'medium', 'high'])[1 + n % 3] END,
       CASE WHEN n % 4 = 3 THEN NULL ELSE us."id" END,
       timestamptz '2025-03-01 00:00:00+00' + n * interval '5 hours 0.000011 seconds',
       timestamptz '2025-03-01 00:00:00+00' + n * interval '5 hours 0.000011 seconds'
FROM generate_series(1, 40) AS n
JOIN _users us ON us.g = 1 + n % 2
ORDER BY n;
CREATE TEMP TABLE _notifications ON COMMIT DROP AS
  SELECT row_number() OVER (ORDER BY "id") AS g, "id", "createdAt" FROM "Notifications" WHERE "id" > :base;

INSERT INTO "UserNotifications" ("userId", "notificationId", "isRead", "readAt", "createdAt", "updatedAt")
SELECT us."id", nt."id",
       CASE WHEN (us.g + nt.g) % 7 = 0 THEN NULL ELSE (us.g + nt.g) % 2 = 0 END,
       CASE WHEN (us.g + nt.g) % 7 <> 0 AND (us.g + nt.g) % 2 = 0 THEN nt."createdAt" + interval '2 hours 0.000123 seconds' END,
       nt."createdAt", nt."createdAt" + interval '1 minute'
FROM _users us CROSS JOIN _notifications nt
WHERE (us.g + nt.g) % 3 <> 0
ORDER BY nt.g, us.g;

INSERT INTO "NotificationPreferences" ("userId", "notificationType", "enabled", "emailEnabled", "createdAt", "updatedAt")
SELECT us."id", t.type,
       CASE WHEN (us.g + t.k) % 9 = 0 THEN NULL ELSE (us.g + t.k) % 4 <> 0 END,
       (us.g * t.k) % 3 = 0,
       timestamptz '2025-01-10 12:00:00+00' + (us.g * 10 + t.k) * interval '1 minute',
       timestamptz '2025-01-10 12:00:00+00' + (us.g * 10 + t.k) * interval '1 minute'
FROM _users us
CROSS JOIN (VALUES (1, 'order_created'), (2, 'low_stock'), (3, 'customer_signup'), (4, 'system')) AS t(k, type)
ORDER BY us.g, t.k;

COMMIT;

ANALYZE;
