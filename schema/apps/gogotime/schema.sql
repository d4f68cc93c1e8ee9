-- GoGoTime timesheets (TypeORM) -- PostgreSQL DDL
-- Source: shared/seeds/004_f8bebc27d1450939.txt (TypeORM entities of App.API/Entities).
--
-- Tenancy: "companyId" on every tenant-scoped table; "companies" is the tenant table;
-- "user_statuses" is a global lookup table.
--
-- BaseEntity columns on every entity ("company_settings" uses "companyId" as its PK instead of "id"):
--   "id" uuid PK default gen_random_uuid(), "createdAt"/"updatedAt" timestamptz NOT NULL default now(),
--   "deletedAt" timestamptz NULL, "version" int NOT NULL default 1,
--   "createdByUserId"/"updatedByUserId" uuid NULL (no FK in the entities).
--
-- Judgement calls:
--   * The document's migration *example* "IDX_USER_EMAIL_ACTIVE" (unique "email" WHERE "deletedAt" IS NULL,
--     across all companies) is not created: it contradicts the entity's per-company unique index
--     ("companyId","email") -- the same email may exist in different companies.
--   * Composite FKs ("roleId","companyId") -> roles("id","companyId") and
--     ("permissionId","companyId") -> permissions("id","companyId") are backed by the entities' unique
--     indexes on ("companyId","id") (PostgreSQL matches FK columns to a unique index as a set).
--   * Index names follow a readable IDX_<table>_<columns> pattern (TypeORM would generate hashed names).

CREATE EXTENSION IF NOT EXISTS citext;

-- ---------------------------------------------------------------------------
-- companies (tenant table)
-- ---------------------------------------------------------------------------
CREATE TABLE "companies" (
  "id"              uuid         NOT NULL DEFAULT gen_random_uuid(),
  "name"            varchar(255) NOT NULL,
  "timezone"        varchar(255) NULL,
  "createdAt"       timestamptz  NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz  NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz  NULL,
  "version"         int          NOT NULL DEFAULT 1,
  "createdByUserId" uuid         NULL,
  "updatedByUserId" uuid         NULL,
  CONSTRAINT "PK_companies" PRIMARY KEY ("id")
);
CREATE INDEX "IDX_companies_id" ON "companies" ("id");
CREATE UNIQUE INDEX "IDX_COMPANY_NAME_UNIQUE" ON "companies" ("name");

-- ---------------------------------------------------------------------------
-- company_settings (1:1 with companies, PK = "companyId")
-- ---------------------------------------------------------------------------
CREATE TABLE "company_settings" (
  "companyId"               uuid        NOT NULL,
  "timezone"                text        NOT NULL DEFAULT 'UTC',
  "workWeek"                jsonb       NOT NULL DEFAULT '{}',
  "holidayCalendar"         text        NULL,
  "timesheetApproverPolicy" varchar(32) NOT NULL DEFAULT 'manager_of_user',
  "allowedEmailDomains"     text[]      NULL,
  "requireCompanyEmail"     boolean     NOT NULL DEFAULT false,
  "createdAt"               timestamptz NOT NULL DEFAULT now(),
  "updatedAt"               timestamptz NOT NULL DEFAULT now(),
  "deletedAt"               timestamptz NULL,
  "version"                 int         NOT NULL DEFAULT 1,
  "createdByUserId"         uuid        NULL,
  "updatedByUserId"         uuid        NULL,
  CONSTRAINT "PK_company_settings" PRIMARY KEY ("companyId"),
  CONSTRAINT "CHK_company_settings_timesheetApproverPolicy"
    CHECK ("timesheetApproverPolicy" IN ('manager_of_user', 'role_manager', 'explicit')),
  CONSTRAINT "FK_company_settings_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE CASCADE
);

-- ---------------------------------------------------------------------------
-- user_statuses (global lookup)
-- ---------------------------------------------------------------------------
CREATE TABLE "user_statuses" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "code"            varchar(50) NOT NULL,
  "name"            varchar(50) NOT NULL,
  "description"     text        NULL,
  "canLogin"        boolean     NOT NULL DEFAULT true,
  "isTerminal"      boolean     NOT NULL DEFAULT false,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_user_statuses" PRIMARY KEY ("id"),
  CONSTRAINT "UQ_user_statuses_code" UNIQUE ("code"),
  CONSTRAINT "UQ_user_statuses_name" UNIQUE ("name")
);

-- ---------------------------------------------------------------------------
-- roles / permissions / role_permissions (per company)
-- ---------------------------------------------------------------------------
CREATE TABLE "roles" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "name"            varchar(50) NOT NULL,
  "description"     text        NULL,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_roles" PRIMARY KEY ("id"),
  CONSTRAINT "FK_roles_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_roles_companyId_id"   ON "roles" ("companyId", "id");
CREATE UNIQUE INDEX "IDX_roles_companyId_name" ON "roles" ("companyId", "name");

CREATE TABLE "permissions" (
  "id"              uuid         NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid         NOT NULL,
  "name"            varchar(100) NOT NULL,
  "description"     text         NULL,
  "createdAt"       timestamptz  NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz  NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz  NULL,
  "version"         int          NOT NULL DEFAULT 1,
  "createdByUserId" uuid         NULL,
  "updatedByUserId" uuid         NULL,
  CONSTRAINT "PK_permissions" PRIMARY KEY ("id"),
  CONSTRAINT "FK_permissions_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_permissions_companyId_id"   ON "permissions" ("companyId", "id");
CREATE UNIQUE INDEX "IDX_permissions_companyId_name" ON "permissions" ("companyId", "name");

CREATE TABLE "role_permissions" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "roleId"          uuid        NOT NULL,
  "permissionId"    uuid        NOT NULL,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_role_permissions" PRIMARY KEY ("id"),
  CONSTRAINT "FK_role_permissions_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_role_permissions_role" FOREIGN KEY ("roleId", "companyId")
    REFERENCES "roles" ("id", "companyId") ON DELETE RESTRICT,
  CONSTRAINT "FK_role_permissions_permission" FOREIGN KEY ("permissionId", "companyId")
    REFERENCES "permissions" ("id", "companyId") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_role_permissions_companyId_roleId_permissionId"
  ON "role_permissions" ("companyId", "roleId", "permissionId");

-- ---------------------------------------------------------------------------
-- users / active_sessions
-- ---------------------------------------------------------------------------
CREATE TABLE "users" (
  "id"                            uuid         NOT NULL DEFAULT gen_random_uuid(),
  "companyId"                     uuid         NOT NULL,
  "email"                         citext       NOT NULL,
  "firstName"                     varchar(255) NOT NULL,
  "lastName"                      varchar(255) NOT NULL,
  "passwordHash"                  varchar(255) NOT NULL,
  "mustChangePasswordAtNextLogin" boolean      NOT NULL DEFAULT false,
  "roleId"                        uuid         NOT NULL,
  "phoneNumber"                   varchar(32)  NULL,
  "lastLogin"                     timestamptz  NULL,
  "isAnonymized"                  boolean      NOT NULL DEFAULT false,
  "statusId"                      uuid         NOT NULL,
  "createdAt"                     timestamptz  NOT NULL DEFAULT now(),
  "updatedAt"                     timestamptz  NOT NULL DEFAULT now(),
  "deletedAt"                     timestamptz  NULL,
  "version"                       int          NOT NULL DEFAULT 1,
  "createdByUserId"               uuid         NULL,
  "updatedByUserId"               uuid         NULL,
  CONSTRAINT "PK_users" PRIMARY KEY ("id"),
  CONSTRAINT "FK_users_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_users_role" FOREIGN KEY ("roleId", "companyId")
    REFERENCES "roles" ("id", "companyId") ON DELETE RESTRICT,
  CONSTRAINT "FK_users_statusId" FOREIGN KEY ("statusId")
    REFERENCES "user_statuses" ("id") ON DELETE RESTRICT
);
CREATE INDEX        "IDX_users_companyId_id"       ON "users" ("companyId", "id");
CREATE UNIQUE INDEX "IDX_users_companyId_email"    ON "users" ("companyId", "email");
CREATE INDEX        "IDX_users_companyId_roleId"   ON "users" ("companyId", "roleId");
CREATE INDEX        "IDX_users_companyId_statusId" ON "users" ("companyId", "statusId");

CREATE TABLE "active_sessions" (
  "id"                uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"         uuid        NOT NULL,
  "userId"            uuid        NOT NULL,
  "tokenHash"         text        NOT NULL,
  "previousTokenHash" text        NULL,
  "expiresAt"         timestamptz NULL,
  "revokedAt"         timestamptz NULL,
  "lastSeenAt"        timestamptz NULL,
  "ip"                inet        NULL,
  "userAgent"         text        NULL,
  "deviceId"          text        NULL,
  "createdAt"         timestamptz NOT NULL DEFAULT now(),
  "updatedAt"         timestamptz NOT NULL DEFAULT now(),
  "deletedAt"         timestamptz NULL,
  "version"           int         NOT NULL DEFAULT 1,
  "createdByUserId"   uuid        NULL,
  "updatedByUserId"   uuid        NULL,
  CONSTRAINT "PK_active_sessions" PRIMARY KEY ("id"),
  CONSTRAINT "FK_active_sessions_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_active_sessions_userId" FOREIGN KEY ("userId")
    REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX        "IDX_active_sessions_companyId_userId" ON "active_sessions" ("companyId", "userId");
CREATE UNIQUE INDEX "IDX_active_sessions_tokenHash"        ON "active_sessions" ("tokenHash");
CREATE INDEX        "IDX_active_sessions_expiresAt"        ON "active_sessions" ("expiresAt");

-- ---------------------------------------------------------------------------
-- teams / team_members
-- ---------------------------------------------------------------------------
CREATE TABLE "teams" (
  "id"              uuid         NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid         NOT NULL,
  "name"            varchar(255) NOT NULL,
  "createdAt"       timestamptz  NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz  NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz  NULL,
  "version"         int          NOT NULL DEFAULT 1,
  "createdByUserId" uuid         NULL,
  "updatedByUserId" uuid         NULL,
  CONSTRAINT "PK_teams" PRIMARY KEY ("id"),
  CONSTRAINT "FK_teams_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_teams_companyId_id_name" ON "teams" ("companyId", "id", "name");

CREATE TABLE "team_members" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "teamId"          uuid        NOT NULL,
  "userId"          uuid        NOT NULL,
  "role"            varchar(50) NOT NULL DEFAULT 'member',
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_team_members" PRIMARY KEY ("id"),
  CONSTRAINT "FK_team_members_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_team_members_teamId" FOREIGN KEY ("teamId")
    REFERENCES "teams" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_team_members_userId" FOREIGN KEY ("userId")
    REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_team_members_companyId_teamId_userId"
  ON "team_members" ("companyId", "teamId", "userId");

-- ---------------------------------------------------------------------------
-- leave_requests
-- ---------------------------------------------------------------------------
CREATE TABLE "leave_requests" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "userId"          uuid        NOT NULL,
  "startDate"       date        NOT NULL,
  "endDate"         date        NOT NULL,
  "leaveType"       varchar(20) NOT NULL,
  "status"          varchar(20) NOT NULL DEFAULT 'PENDING',
  "reason"          text        NULL,
  "rejectionReason" text        NULL,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_leave_requests" PRIMARY KEY ("id"),
  CONSTRAINT "CHK_leave_requests_leaveType" CHECK ("leaveType" IN ('PTO', 'SICK', 'UNPAID')),
  CONSTRAINT "CHK_leave_requests_status"
    CHECK ("status" IN ('PENDING', 'APPROVED', 'REJECTED', 'CANCELLED')),
  CONSTRAINT "FK_leave_requests_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_leave_requests_userId" FOREIGN KEY ("userId")
    REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE INDEX "IDX_leave_requests_companyId_userId"            ON "leave_requests" ("companyId", "userId");
CREATE INDEX "IDX_leave_requests_companyId_startDate_endDate" ON "leave_requests" ("companyId", "startDate", "endDate");

-- ---------------------------------------------------------------------------
-- action_codes
-- ---------------------------------------------------------------------------
CREATE TABLE "action_codes" (
  "id"              uuid         NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid         NOT NULL,
  "code"            varchar(255) NOT NULL,
  "name"            varchar(255) NOT NULL,
  "type"            varchar(16)  NOT NULL DEFAULT 'billable',
  "active"          boolean      NOT NULL DEFAULT true,
  "createdAt"       timestamptz  NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz  NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz  NULL,
  "version"         int          NOT NULL DEFAULT 1,
  "createdByUserId" uuid         NULL,
  "updatedByUserId" uuid         NULL,
  CONSTRAINT "PK_action_codes" PRIMARY KEY ("id"),
  CONSTRAINT "UQ_action_codes_companyId_code" UNIQUE ("companyId", "code"),
  CONSTRAINT "CHK_action_codes_type" CHECK ("type" IN ('billable', 'non-billable')),
  CONSTRAINT "FK_action_codes_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT
);
CREATE INDEX "IDX_action_codes_companyId_code" ON "action_codes" ("companyId", "code");

-- ---------------------------------------------------------------------------
-- timesheets / timesheet_approvals / timesheet_entries
-- ---------------------------------------------------------------------------
CREATE TABLE "timesheets" (
  "id"                uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"         uuid        NOT NULL,
  "userId"            uuid        NOT NULL,
  "periodStart"       date        NOT NULL,
  "periodEnd"         date        NOT NULL,
  "status"            varchar(16) NOT NULL DEFAULT 'DRAFT',
  "submittedAt"       timestamptz NULL,
  "submittedByUserId" uuid        NULL,
  "approvedAt"        timestamptz NULL,
  "approverId"        uuid        NULL,
  "totalMinutes"      int         NOT NULL DEFAULT 0,
  "notes"             text        NULL,
  "createdAt"         timestamptz NOT NULL DEFAULT now(),
  "updatedAt"         timestamptz NOT NULL DEFAULT now(),
  "deletedAt"         timestamptz NULL,
  "version"           int         NOT NULL DEFAULT 1,
  "createdByUserId"   uuid        NULL,
  "updatedByUserId"   uuid        NULL,
  CONSTRAINT "PK_timesheets" PRIMARY KEY ("id"),
  CONSTRAINT "CHK_timesheets_status"
    CHECK ("status" IN ('DRAFT', 'SUBMITTED', 'APPROVED', 'REJECTED')),
  CONSTRAINT "FK_timesheets_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_timesheets_userId" FOREIGN KEY ("userId")
    REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_timesheets_companyId_userId_period"
  ON "timesheets" ("companyId", "userId", "periodStart", "periodEnd");
CREATE INDEX "IDX_timesheets_companyId_status" ON "timesheets" ("companyId", "status");

CREATE TABLE "timesheet_approvals" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "timesheetId"     uuid        NOT NULL,
  "approverId"      uuid        NOT NULL,
  "status"          varchar(16) NOT NULL DEFAULT 'PENDING',
  "reason"          text        NULL,
  "decidedAt"       timestamptz NULL,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_timesheet_approvals" PRIMARY KEY ("id"),
  CONSTRAINT "CHK_timesheet_approvals_status" CHECK ("status" IN ('PENDING', 'APPROVED', 'REJECTED')),
  CONSTRAINT "FK_timesheet_approvals_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_timesheet_approvals_timesheetId" FOREIGN KEY ("timesheetId")
    REFERENCES "timesheets" ("id") ON DELETE CASCADE,
  CONSTRAINT "FK_timesheet_approvals_approverId" FOREIGN KEY ("approverId")
    REFERENCES "users" ("id") ON DELETE RESTRICT
);
CREATE UNIQUE INDEX "IDX_timesheet_approvals_companyId_timesheetId_approverId"
  ON "timesheet_approvals" ("companyId", "timesheetId", "approverId");

CREATE TABLE "timesheet_entries" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "userId"          uuid        NOT NULL,
  "timesheetId"     uuid        NULL,
  "actionCodeId"    uuid        NOT NULL,
  "workMode"        varchar(8)  NOT NULL DEFAULT 'office',
  "country"         varchar(2)  NOT NULL,
  "startedAt"       timestamptz NULL,
  "endedAt"         timestamptz NULL,
  "durationMin"     int         NOT NULL,
  "day"             date        NOT NULL,
  "note"            text        NULL,
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_timesheet_entries" PRIMARY KEY ("id"),
  CONSTRAINT "CHK_timesheet_entries_durationMin" CHECK ("durationMin" BETWEEN 0 AND 1440),
  CONSTRAINT "CHK_timesheet_entries_workMode" CHECK ("workMode" IN ('office', 'remote', 'hybrid')),
  CONSTRAINT "FK_timesheet_entries_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_timesheet_entries_userId" FOREIGN KEY ("userId")
    REFERENCES "users" ("id") ON DELETE RESTRICT,
  CONSTRAINT "FK_timesheet_entries_timesheetId" FOREIGN KEY ("timesheetId")
    REFERENCES "timesheets" ("id") ON DELETE SET NULL,
  CONSTRAINT "FK_timesheet_entries_actionCodeId" FOREIGN KEY ("actionCodeId")
    REFERENCES "action_codes" ("id") ON DELETE RESTRICT
);
CREATE INDEX "IDX_timesheet_entries_companyId_userId_day"
  ON "timesheet_entries" ("companyId", "userId", "day");
CREATE INDEX "IDX_timesheet_entries_companyId_timesheetId"
  ON "timesheet_entries" ("companyId", "timesheetId");

-- ---------------------------------------------------------------------------
-- timesheet_history (audit of timesheet-related events)
-- ---------------------------------------------------------------------------
CREATE TABLE "timesheet_history" (
  "id"              uuid        NOT NULL DEFAULT gen_random_uuid(),
  "companyId"       uuid        NOT NULL,
  "userId"          uuid        NOT NULL,
  "targetType"      varchar(32) NOT NULL,
  "targetId"        uuid        NOT NULL,
  "action"          varchar(32) NOT NULL,
  "actorUserId"     uuid        NULL,
  "reason"          text        NULL,
  "diff"            jsonb       NULL,
  "metadata"        jsonb       NULL,
  "occurredAt"      timestamptz NOT NULL DEFAULT now(),
  "createdAt"       timestamptz NOT NULL DEFAULT now(),
  "updatedAt"       timestamptz NOT NULL DEFAULT now(),
  "deletedAt"       timestamptz NULL,
  "version"         int         NOT NULL DEFAULT 1,
  "createdByUserId" uuid        NULL,
  "updatedByUserId" uuid        NULL,
  CONSTRAINT "PK_timesheet_history" PRIMARY KEY ("id"),
  CONSTRAINT "CHK_timesheet_history_targetType"
    CHECK ("targetType" IN ('Timesheet', 'TimesheetEntry', 'TimesheetApproval', 'ActionCode')),
  CONSTRAINT "CHK_timesheet_history_action"
    CHECK ("action" IN ('created', 'updated', 'submitted', 'approved', 'rejected', 'deleted')),
  CONSTRAINT "FK_timesheet_history_companyId" FOREIGN KEY ("companyId")
    REFERENCES "companies" ("id") ON DELETE RESTRICT
);
CREATE INDEX "IDX_timesheet_history_companyId_userId"
  ON "timesheet_history" ("companyId", "userId");
CREATE INDEX "IDX_timesheet_history_companyId_targetType_targetId"
  ON "timesheet_history" ("companyId", "targetType", "targetId");
