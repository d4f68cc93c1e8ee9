-- NCY_8 platform -- PostgreSQL DDL
-- Source: shared/seeds/002_d030a213acf6ecb7.txt ("Database Strategy & Operations"): the CREATE TABLE blocks,
-- the Prisma enums, the UserPreferences migration, the indexing strategy and the GDPR section.
--
-- Tenancy: "Organization" is the tenant table; "OrganizationMember", "Team", "Project" carry
-- "organization_id"; "Task" belongs to its "Project", "TeamMember" to its "Team". "User" is global and
-- reaches a tenant only through "OrganizationMember"."user_id". "Role"/"Permission"/"RolePermission" are global.
--
-- Judgement calls:
--   * Only the 17 tables whose DDL the document gives are created; models that are only named in the Prisma
--     relations (Notification, File, Message, Settings, GdprRequest, Consent) and "BackupSnapshot" are not.
--   * The GDPR policy "user_data_retention" is created as documented; RLS is not enabled on "User", so it
--     has no effect until someone runs ALTER TABLE "User" ENABLE ROW LEVEL SECURITY.
--   * Secrets: "User"."password_hash", "Session"."refresh_token", "ApiKey"."key_hash".

-- ---------------------------------------------------------------------------
-- Enums (prisma/schema.prisma)
-- ---------------------------------------------------------------------------
CREATE TYPE "UserRole" AS ENUM ('ADMIN', 'MANAGER', 'EMPLOYEE', 'SYSTEM');
CREATE TYPE "UserStatus" AS ENUM ('ACTIVE', 'INACTIVE', 'SUSPENDED', 'PENDING');
CREATE TYPE "OrgRole" AS ENUM ('OWNER', 'ADMIN', 'MANAGER', 'MEMBER');
CREATE TYPE "ProjectStatus" AS ENUM ('ACTIVE', 'INACTIVE', 'ARCHIVED');
CREATE TYPE "TaskStatus" AS ENUM ('TODO', 'IN_PROGRESS', 'REVIEW', 'DONE', 'CANCELLED');
CREATE TYPE "TaskPriority" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'URGENT');
CREATE TYPE "LogLevel" AS ENUM ('DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL');

-- ---------------------------------------------------------------------------
-- Core identity
-- ---------------------------------------------------------------------------
CREATE TABLE "User" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "email" VARCHAR(255) UNIQUE NOT NULL,
  "password_hash" VARCHAR(255) NOT NULL,
  "role" "UserRole" NOT NULL DEFAULT 'EMPLOYEE',
  "status" "UserStatus" NOT NULL DEFAULT 'ACTIVE',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3)
);

CREATE TABLE "Session" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "refresh_token" VARCHAR(255) NOT NULL,
  "ip_address" INET,
  "user_agent" TEXT,
  "expires_at" TIMESTAMP(3) NOT NULL,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "ApiKey" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "key_hash" VARCHAR(255) NOT NULL,
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "scopes" TEXT[] NOT NULL DEFAULT '{}',
  "last_used_at" TIMESTAMP(3),
  "expires_at" TIMESTAMP(3),
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- ---------------------------------------------------------------------------
-- RBAC (global)
-- ---------------------------------------------------------------------------
CREATE TABLE "Role" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "name" VARCHAR(100) UNIQUE NOT NULL,
  "description" TEXT,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "Permission" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "key" VARCHAR(100) UNIQUE NOT NULL,
  "description" TEXT,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "RolePermission" (
  "role_id" UUID NOT NULL REFERENCES "Role"("id") ON DELETE CASCADE,
  "permission_id" UUID NOT NULL REFERENCES "Permission"("id") ON DELETE CASCADE,
  PRIMARY KEY ("role_id", "permission_id")
);

CREATE TABLE "UserRoleMap" (
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "role_id" UUID NOT NULL REFERENCES "Role"("id") ON DELETE CASCADE,
  "granted_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "granted_by" UUID REFERENCES "User"("id"),
  PRIMARY KEY ("user_id", "role_id")
);

-- ---------------------------------------------------------------------------
-- Organization structure (multi-tenant)
-- ---------------------------------------------------------------------------
CREATE TABLE "Organization" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "name" VARCHAR(255) NOT NULL,
  "slug" VARCHAR(100) UNIQUE NOT NULL,
  "owner_id" UUID NOT NULL REFERENCES "User"("id"),
  "settings" JSONB DEFAULT '{}',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3)
);

CREATE TABLE "OrganizationMember" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "organization_id" UUID NOT NULL REFERENCES "Organization"("id") ON DELETE CASCADE,
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "role" "OrgRole" NOT NULL DEFAULT 'MEMBER',
  "joined_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3),
  UNIQUE ("organization_id", "user_id")
);

CREATE TABLE "Team" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "organization_id" UUID NOT NULL REFERENCES "Organization"("id") ON DELETE CASCADE,
  "name" VARCHAR(255) NOT NULL,
  "description" TEXT,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3)
);

CREATE TABLE "TeamMember" (
  "team_id" UUID NOT NULL REFERENCES "Team"("id") ON DELETE CASCADE,
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "joined_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3),
  PRIMARY KEY ("team_id", "user_id")
);

-- ---------------------------------------------------------------------------
-- Business entities
-- ---------------------------------------------------------------------------
CREATE TABLE "Project" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "organization_id" UUID NOT NULL REFERENCES "Organization"("id") ON DELETE CASCADE,
  "name" VARCHAR(255) NOT NULL,
  "description" TEXT,
  "status" "ProjectStatus" NOT NULL DEFAULT 'ACTIVE',
  "settings" JSONB DEFAULT '{}',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3)
);

CREATE TABLE "Task" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "project_id" UUID NOT NULL REFERENCES "Project"("id") ON DELETE CASCADE,
  "assignee_id" UUID REFERENCES "User"("id"),
  "title" VARCHAR(255) NOT NULL,
  "description" TEXT,
  "status" "TaskStatus" NOT NULL DEFAULT 'TODO',
  "priority" "TaskPriority" NOT NULL DEFAULT 'MEDIUM',
  "due_date" TIMESTAMP(3),
  "metadata" JSONB DEFAULT '{}',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deleted_at" TIMESTAMP(3)
);

-- ---------------------------------------------------------------------------
-- Audit & logging
-- ---------------------------------------------------------------------------
CREATE TABLE "AuditLog" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "user_id" UUID REFERENCES "User"("id"),
  "action" VARCHAR(100) NOT NULL,
  "target_table" VARCHAR(100) NOT NULL,
  "target_id" UUID,
  "old_value" JSONB,
  "new_value" JSONB,
  "ip_address" INET,
  "user_agent" TEXT,
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "ErrorLog" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "service" VARCHAR(100) NOT NULL,
  "level" "LogLevel" NOT NULL,
  "message" TEXT NOT NULL,
  "stack" TEXT,
  "context" JSONB DEFAULT '{}',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE "AccessLog" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "user_id" UUID REFERENCES "User"("id"),
  "method" VARCHAR(10) NOT NULL,
  "endpoint" VARCHAR(255) NOT NULL,
  "status_code" INTEGER NOT NULL,
  "latency_ms" INTEGER,
  "timestamp" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- Migration 20240115000000_add_user_preferences
CREATE TABLE "UserPreferences" (
  "id" UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  "user_id" UUID NOT NULL REFERENCES "User"("id") ON DELETE CASCADE,
  "preferences" JSONB DEFAULT '{}',
  "timezone" VARCHAR(50) DEFAULT 'UTC',
  "locale" VARCHAR(10) DEFAULT 'en',
  "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX "UserPreferences_user_id_idx" ON "UserPreferences"("user_id");

-- ---------------------------------------------------------------------------
-- Indexing strategy
-- ---------------------------------------------------------------------------
-- User queries
CREATE INDEX "User_email_idx" ON "User"("email") WHERE "deleted_at" IS NULL;
CREATE INDEX "User_status_idx" ON "User"("status") WHERE "deleted_at" IS NULL;
CREATE INDEX "User_created_at_idx" ON "User"("created_at");

-- Organization queries
CREATE INDEX "Organization_slug_idx" ON "Organization"("slug") WHERE "deleted_at" IS NULL;
CREATE INDEX "Organization_owner_id_idx" ON "Organization"("owner_id");

-- Task queries
CREATE INDEX "Task_project_id_idx" ON "Task"("project_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "Task_assignee_id_idx" ON "Task"("assignee_id") WHERE "deleted_at" IS NULL;
CREATE INDEX "Task_status_idx" ON "Task"("status") WHERE "deleted_at" IS NULL;
CREATE INDEX "Task_due_date_idx" ON "Task"("due_date") WHERE "deleted_at" IS NULL;

-- Audit queries
CREATE INDEX "AuditLog_user_id_idx" ON "AuditLog"("user_id");
CREATE INDEX "AuditLog_target_table_target_id_idx" ON "AuditLog"("target_table", "target_id");
CREATE INDEX "AuditLog_created_at_idx" ON "AuditLog"("created_at");

-- Composite indexes for common queries
CREATE INDEX "Task_project_status_idx" ON "Task"("project_id", "status") WHERE "deleted_at" IS NULL;
CREATE INDEX "OrganizationMember_org_user_idx" ON "OrganizationMember"("organization_id", "user_id") WHERE "deleted_at" IS NULL;

-- ---------------------------------------------------------------------------
-- GDPR compliance
-- ---------------------------------------------------------------------------
-- Data retention policy (inert until row level security is enabled on "User")
CREATE POLICY "user_data_retention" ON "User"
  FOR DELETE
  USING (
    deleted_at IS NOT NULL
    AND deleted_at < NOW() - INTERVAL '7 years'
  );

-- Anonymization function
CREATE OR REPLACE FUNCTION anonymize_user_data(user_id UUID)
RETURNS VOID AS $$
BEGIN
  UPDATE "User"
  SET
    email = 'anonymized_' || user_id || '@deleted.com',
    password_hash = 'anonymized',
    deleted_at = NOW()
  WHERE id = user_id;

  -- Log anonymization
  INSERT INTO "AuditLog" (user_id, action, target_table, target_id, new_value)
  VALUES (user_id, 'ANONYMIZE', 'User', user_id, '{"anonymized": true}');
END;
$$ LANGUAGE plpgsql;
