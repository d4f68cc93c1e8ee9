-- Gemini CRM (Sequelize) -- PostgreSQL DDL
-- Source: shared/seeds/003_b65fe3d599fe9a3e.txt ("Database Documentation": core tables, notification tables,
-- "Database Indexes" performance/trigram/partial indexes).
--
-- Single tenant: no tenancy column; SERIAL integer keys; Sequelize timestamps "createdAt"/"updatedAt" are
-- NOT NULL without a DB default (Sequelize sets them).
--
-- Judgement calls:
--   * The performance indexes are created without CONCURRENTLY (they run on an empty database, and
--     CONCURRENTLY cannot run inside a transaction block).
--   * Secret: "Users"."password" (bcrypt hash).

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- ---------------------------------------------------------------------------
-- Core tables
-- ---------------------------------------------------------------------------
CREATE TABLE "Users" (
  "id" SERIAL PRIMARY KEY,
  "firstName" VARCHAR(255) NOT NULL,
  "lastName" VARCHAR(255) NOT NULL,
  "email" VARCHAR(255) UNIQUE NOT NULL,
  "password" VARCHAR(255) NOT NULL,
  "role" VARCHAR(255) DEFAULT 'staff' CHECK (role IN ('admin', 'staff')),
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "users_email_idx" ON "Users" ("email");
CREATE INDEX "users_role_idx" ON "Users" ("role");

CREATE TABLE "Customers" (
  "id" SERIAL PRIMARY KEY,
  "firstName" VARCHAR(255),
  "lastName" VARCHAR(255),
  "email" VARCHAR(255),
  "phone" VARCHAR(255),
  "address" TEXT,
  "totalPurchases" DECIMAL(10,2) DEFAULT 0.00,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "customers_email_idx" ON "Customers" ("email");
CREATE INDEX "customers_phone_idx" ON "Customers" ("phone");
CREATE INDEX "customers_name_idx" ON "Customers" ("firstName", "lastName");

CREATE TABLE "Products" (
  "id" SERIAL PRIMARY KEY,
  "name" VARCHAR(255) NOT NULL,
  "description" TEXT,
  "price" DECIMAL(10,2) NOT NULL,
  "stock" INTEGER DEFAULT 0,
  "category" VARCHAR(255),
  "image" VARCHAR(255),
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "products_name_idx" ON "Products" ("name");
CREATE INDEX "products_category_idx" ON "Products" ("category");
CREATE INDEX "products_stock_idx" ON "Products" ("stock");

CREATE TABLE "Orders" (
  "id" SERIAL PRIMARY KEY,
  "customerId" INTEGER REFERENCES "Customers"("id") ON DELETE SET NULL,
  "createdBy" INTEGER REFERENCES "Users"("id") ON DELETE SET NULL,
  "status" VARCHAR(255) DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'completed', 'cancelled')),
  "total" DECIMAL(10,2) NOT NULL,
  "notes" TEXT,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "orders_customer_idx" ON "Orders" ("customerId");
CREATE INDEX "orders_status_idx" ON "Orders" ("status");
CREATE INDEX "orders_created_by_idx" ON "Orders" ("createdBy");
CREATE INDEX "orders_date_idx" ON "Orders" ("createdAt");

CREATE TABLE "OrderItems" (
  "id" SERIAL PRIMARY KEY,
  "orderId" INTEGER REFERENCES "Orders"("id") ON DELETE CASCADE,
  "productId" INTEGER REFERENCES "Products"("id") ON DELETE SET NULL,
  "quantity" INTEGER NOT NULL,
  "price" DECIMAL(10,2) NOT NULL,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "order_items_order_idx" ON "OrderItems" ("orderId");
CREATE INDEX "order_items_product_idx" ON "OrderItems" ("productId");

-- ---------------------------------------------------------------------------
-- Notification system
-- ---------------------------------------------------------------------------
CREATE TABLE "Notifications" (
  "id" SERIAL PRIMARY KEY,
  "type" VARCHAR(255) NOT NULL,
  "title" VARCHAR(255) NOT NULL,
  "message" TEXT NOT NULL,
  "data" JSONB,
  "priority" VARCHAR(255) DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high')),
  "createdBy" INTEGER REFERENCES "Users"("id") ON DELETE SET NULL,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE INDEX "notifications_type_idx" ON "Notifications" ("type");
CREATE INDEX "notifications_priority_idx" ON "Notifications" ("priority");
CREATE INDEX "notifications_created_at_idx" ON "Notifications" ("createdAt");

CREATE TABLE "UserNotifications" (
  "id" SERIAL PRIMARY KEY,
  "userId" INTEGER REFERENCES "Users"("id") ON DELETE CASCADE,
  "notificationId" INTEGER REFERENCES "Notifications"("id") ON DELETE CASCADE,
  "isRead" BOOLEAN DEFAULT FALSE,
  "readAt" TIMESTAMP WITH TIME ZONE,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE UNIQUE INDEX "user_notifications_unique_idx" ON "UserNotifications" ("userId", "notificationId");
CREATE INDEX "user_notifications_user_idx" ON "UserNotifications" ("userId");
CREATE INDEX "user_notifications_read_idx" ON "UserNotifications" ("isRead");

CREATE TABLE "NotificationPreferences" (
  "id" SERIAL PRIMARY KEY,
  "userId" INTEGER REFERENCES "Users"("id") ON DELETE CASCADE,
  "notificationType" VARCHAR(255) NOT NULL,
  "enabled" BOOLEAN DEFAULT TRUE,
  "emailEnabled" BOOLEAN DEFAULT FALSE,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL,
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE UNIQUE INDEX "notification_preferences_unique_idx" ON "NotificationPreferences" ("userId", "notificationType");

-- ---------------------------------------------------------------------------
-- Performance indexes (documented with CONCURRENTLY)
-- ---------------------------------------------------------------------------
CREATE INDEX "orders_customer_date_idx" ON "Orders" ("customerId", "createdAt");
CREATE INDEX "products_name_trgm_idx" ON "Products" USING gin ("name" gin_trgm_ops);
CREATE INDEX "customers_name_trgm_idx" ON "Customers" USING gin (("firstName" || ' ' || "lastName") gin_trgm_ops);

-- Partial indexes for common queries
CREATE INDEX "orders_pending_idx" ON "Orders" ("createdAt") WHERE "status" = 'pending';
CREATE INDEX "products_low_stock_idx" ON "Products" ("stock") WHERE "stock" < 10;
