-- ERP analytics (Prisma) -- PostgreSQL DDL
-- Source: shared/seeds/001_ec84941628b7c01e.txt (migration 20251125134400_init).
--
-- Written the way `prisma migrate` renders it: quoted camelCase columns, PG enum types,
-- DateTime -> TIMESTAMP(3), @default(now()) -> DEFAULT CURRENT_TIMESTAMP, @updatedAt -> no DB default,
-- String[] -> TEXT[] (Prisma scalar lists are nullable at DB level), index names <table>_<cols>_idx/_key,
-- relations with ON DELETE <action> ON UPDATE CASCADE.
--
-- Tenancy: "tenantId" on users, integrations, analytics_events, audit_logs; "tenants" is the tenant table.
--
-- Judgement calls:
--   * Columns not marked "optional" in the document are NOT NULL; defaults only where the document gives one.
--   * ids are UUID (as documented) with no DB default: Prisma's @default(uuid()) is generated client-side.
--   * "Row-Level Security enabled (policies in Phase 2)": RLS is NOT enabled here -- with no policies it would
--     hide every row from non-owner roles (including a sync service). Enable it together with the policies:
--       ALTER TABLE "users" ENABLE ROW LEVEL SECURITY;  -- etc.
--   * Secrets: tenants."encryptionKey", integrations."credentials" (encrypted), users."password" (hash).

-- CreateEnum
CREATE TYPE "TenantStatus" AS ENUM ('ACTIVE', 'SUSPENDED', 'TRIAL', 'CANCELLED');
CREATE TYPE "UserRole" AS ENUM ('SUPER_ADMIN', 'ADMIN', 'USER', 'VIEWER');
CREATE TYPE "UserStatus" AS ENUM ('ACTIVE', 'INACTIVE', 'INVITED', 'SUSPENDED');
CREATE TYPE "IntegrationStatus" AS ENUM ('PENDING', 'ACTIVE', 'ERROR', 'DISABLED');

-- CreateTable
CREATE TABLE "tenants" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "slug" TEXT NOT NULL,
    "domain" TEXT,
    "status" "TenantStatus" NOT NULL,
    "settings" JSONB NOT NULL,
    "metadata" JSONB NOT NULL,
    "features" TEXT[],
    "maxUsers" INTEGER NOT NULL DEFAULT 10,
    "maxIntegrations" INTEGER NOT NULL DEFAULT 5,
    "encryptionKey" TEXT NOT NULL,
    "planType" TEXT NOT NULL DEFAULT 'trial',
    "billingEmail" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "tenants_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "users" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "password" TEXT NOT NULL,
    "firstName" TEXT,
    "lastName" TEXT,
    "avatar" TEXT,
    "tenantId" UUID NOT NULL,
    "role" "UserRole" NOT NULL DEFAULT 'USER',
    "permissions" TEXT[],
    "status" "UserStatus" NOT NULL DEFAULT 'ACTIVE',
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "lastLoginAt" TIMESTAMP(3),
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "integrations" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "provider" TEXT NOT NULL,
    "description" TEXT,
    "tenantId" UUID NOT NULL,
    "config" JSONB NOT NULL,
    "credentials" TEXT NOT NULL,
    "status" "IntegrationStatus" NOT NULL DEFAULT 'PENDING',
    "enabled" BOOLEAN NOT NULL DEFAULT false,
    "lastSyncAt" TIMESTAMP(3),
    "syncStatus" TEXT,
    "syncError" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "integrations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "analytics_events" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "eventType" TEXT NOT NULL,
    "eventName" TEXT NOT NULL,
    "properties" JSONB NOT NULL,
    "source" TEXT,
    "sourceId" TEXT,
    "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "analytics_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_logs" (
    "id" UUID NOT NULL,
    "tenantId" UUID NOT NULL,
    "userId" UUID,
    "action" TEXT NOT NULL,
    "resource" TEXT NOT NULL,
    "resourceId" TEXT,
    "changes" JSONB NOT NULL,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "tenants_slug_key" ON "tenants"("slug");
CREATE UNIQUE INDEX "tenants_domain_key" ON "tenants"("domain");
CREATE INDEX "tenants_slug_idx" ON "tenants"("slug");
CREATE INDEX "tenants_status_idx" ON "tenants"("status");

CREATE INDEX "users_tenantId_idx" ON "users"("tenantId");
CREATE INDEX "users_email_idx" ON "users"("email");
CREATE UNIQUE INDEX "users_email_tenantId_key" ON "users"("email", "tenantId");

CREATE INDEX "integrations_tenantId_idx" ON "integrations"("tenantId");
CREATE INDEX "integrations_provider_idx" ON "integrations"("provider");
CREATE INDEX "integrations_tenantId_status_idx" ON "integrations"("tenantId", "status");

CREATE INDEX "analytics_events_tenantId_timestamp_idx" ON "analytics_events"("tenantId", "timestamp");
CREATE INDEX "analytics_events_tenantId_eventType_idx" ON "analytics_events"("tenantId", "eventType");
CREATE INDEX "analytics_events_sourceId_idx" ON "analytics_events"("sourceId");

CREATE INDEX "audit_logs_tenantId_createdAt_idx" ON "audit_logs"("tenantId", "createdAt");
CREATE INDEX "audit_logs_userId_idx" ON "audit_logs"("userId");
CREATE INDEX "audit_logs_action_idx" ON "audit_logs"("action");
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs"("resource");

-- AddForeignKey
ALTER TABLE "users" ADD CONSTRAINT "users_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "integrations" ADD CONSTRAINT "integrations_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "analytics_events" ADD CONSTRAINT "analytics_events_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_tenantId_fkey" FOREIGN KEY ("tenantId") REFERENCES "tenants"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_userId_fkey" FOREIGN KEY ("userId") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;
