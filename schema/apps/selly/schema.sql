-- Selly Base (B2B company data, TypeORM) -- PostgreSQL DDL
-- Source: shared/seeds/000_2a5efecd137b2973.txt. The document gives the entity list, the head of the
-- export_jobs / import_jobs DDL (id, organization_id, filename, status CHECK) and says the schema has
-- "proper indexes and updated_at triggers". Everything else below is COMPLETED in the style of those
-- fragments (TEXT columns, CHECK-enum status text, UUID keys with gen_random_uuid(), TIMESTAMPTZ DEFAULT
-- CURRENT_TIMESTAMP, JSONB DEFAULT '{}', FKs with ON DELETE actions), modelled on the public upstream
-- "selly-base-optimized-schema.sql" but restricted to the 11 documented entities.
--
-- Tenancy: organization_id on users, user_roles, companies, company_lists, audit_logs, export_jobs,
-- import_jobs; company_contacts belong to their company, company_list_items to their list; roles are global.
--
-- Judgement calls (design decisions, not given by the document):
--   * users.organization_id and companies.organization_id are NULLABLE: platform staff have no organization,
--     and companies with is_shared_data = true (Albaly list / DBD registry reference data) have none either
--     (CHECK valid_shared_data_scope). Such rows belong to no tenant.
--   * Upstream columns that need tables outside the entity list (ref_industry_codes, ref_regions,
--     company_tags) or extensions not shipped with PostgreSQL 15 (pgvector embedding_vector) are left out;
--     province/district/subdistrict/country_code, industry_classification JSONB and tags TEXT[] stand in.
--     The full-text search_vector column is left out (trigram index on name_en is kept).
--   * display_name (companies) and full_name (company_contacts) are STORED generated columns.
--   * companies.created_by / updated_by reference users(id) ON DELETE SET NULL.
--   * trigger_updated_at() bumps updated_at only when the UPDATE did not set it explicitly, so a sync
--     engine (or a seed script) can write an explicit updated_at.
--   * company_list_items maintains company_lists.total_companies / last_activity_at through a trigger.
--   * Secret: users.password_hash.

CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- =========================================================
-- UTILITY FUNCTIONS
-- =========================================================

CREATE OR REPLACE FUNCTION trigger_updated_at()
RETURNS TRIGGER AS $$
BEGIN
  IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
    NEW.updated_at = CURRENT_TIMESTAMP;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

-- =========================================================
-- CORE MULTI-TENANT ARCHITECTURE
-- =========================================================

CREATE TABLE organizations (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT NOT NULL,
  slug TEXT UNIQUE NOT NULL,
  domain TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'suspended')),
  subscription_tier TEXT DEFAULT 'basic' CHECK (subscription_tier IN ('basic', 'professional', 'enterprise')),
  settings JSONB DEFAULT '{}',
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE users (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
  email CITEXT UNIQUE NOT NULL,
  name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  avatar_url TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'suspended')),
  last_login_at TIMESTAMPTZ,
  email_verified_at TIMESTAMPTZ,
  settings JSONB DEFAULT '{}',
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE roles (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  name TEXT UNIQUE NOT NULL,
  description TEXT,
  is_system_role BOOLEAN DEFAULT false,
  permissions TEXT[] DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE user_roles (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role_id UUID NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  assigned_by UUID REFERENCES users(id) ON DELETE SET NULL,
  assigned_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  expires_at TIMESTAMPTZ,
  UNIQUE (user_id, role_id, organization_id)
);

-- =========================================================
-- CANONICAL COMPANY DATA
-- =========================================================

CREATE TABLE companies (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Multi-tenant scoping: NULL for shared reference data, UUID for customer-specific data
  organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
  name_en TEXT NOT NULL,
  name_th TEXT,
  name_local TEXT,
  display_name TEXT GENERATED ALWAYS AS (COALESCE(name_en, name_th)) STORED,
  primary_registration_no TEXT,
  registration_country_code TEXT DEFAULT 'TH',
  duns_number TEXT,
  address_line_1 TEXT,
  address_line_2 TEXT,
  subdistrict TEXT,
  district TEXT,
  province TEXT,
  postal_code TEXT,
  country_code TEXT DEFAULT 'TH',
  latitude DECIMAL(10,8),
  longitude DECIMAL(11,8),
  business_description TEXT,
  established_date DATE,
  employee_count_estimate INTEGER,
  company_size TEXT CHECK (company_size IN ('micro', 'small', 'medium', 'large', 'enterprise')),
  annual_revenue_estimate DECIMAL(15,2),
  currency_code TEXT DEFAULT 'THB',
  website_url TEXT,
  linkedin_url TEXT,
  facebook_url TEXT,
  primary_email TEXT,
  primary_phone TEXT,
  logo_url TEXT,
  industry_classification JSONB DEFAULT '{}',
  tags TEXT[] DEFAULT '{}',
  data_quality_score DECIMAL(3,2) DEFAULT 0.0,
  data_source TEXT NOT NULL DEFAULT 'customer_input' CHECK (
    data_source IN ('albaly_list', 'dbd_registry', 'customer_input', 'data_enrichment', 'third_party')
  ),
  source_reference TEXT,
  is_shared_data BOOLEAN DEFAULT false,
  data_sensitivity TEXT DEFAULT 'standard' CHECK (
    data_sensitivity IN ('public', 'standard', 'confidential', 'restricted')
  ),
  last_enriched_at TIMESTAMPTZ,
  verification_status TEXT DEFAULT 'unverified' CHECK (
    verification_status IN ('verified', 'unverified', 'disputed', 'inactive')
  ),
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  created_by UUID REFERENCES users(id) ON DELETE SET NULL,
  updated_by UUID REFERENCES users(id) ON DELETE SET NULL,
  CONSTRAINT valid_coordinates CHECK (
    (latitude IS NULL AND longitude IS NULL) OR
    (latitude IS NOT NULL AND longitude IS NOT NULL AND
     latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)
  ),
  -- Shared data (Albaly/DBD) does not belong to a specific organization
  CONSTRAINT valid_shared_data_scope CHECK (
    (is_shared_data = true AND organization_id IS NULL) OR
    (is_shared_data = false AND organization_id IS NOT NULL)
  ),
  CONSTRAINT valid_data_quality_score CHECK (data_quality_score BETWEEN 0 AND 1),
  CONSTRAINT valid_employee_count CHECK (employee_count_estimate IS NULL OR employee_count_estimate >= 0)
);

CREATE TABLE company_contacts (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  first_name TEXT,
  last_name TEXT,
  full_name TEXT GENERATED ALWAYS AS (
    TRIM(BOTH FROM COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))
  ) STORED,
  title TEXT,
  department TEXT,
  seniority_level TEXT CHECK (seniority_level IN ('ic', 'manager', 'director', 'vp', 'c_level', 'founder')),
  email TEXT,
  phone TEXT,
  linkedin_url TEXT,
  confidence_score DECIMAL(3,2) DEFAULT 0.0 CHECK (confidence_score BETWEEN 0 AND 1),
  last_verified_at TIMESTAMPTZ,
  verification_method TEXT CHECK (verification_method IN ('email_bounce', 'phone_call', 'linkedin', 'manual', 'third_party')),
  is_opted_out BOOLEAN DEFAULT false,
  opt_out_date TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

-- =========================================================
-- COMPANY LISTS
-- =========================================================

CREATE TABLE company_lists (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  owner_user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT,
  visibility TEXT DEFAULT 'private' CHECK (visibility IN ('private', 'team', 'organization', 'public')),
  is_shared BOOLEAN DEFAULT false,
  total_companies INTEGER DEFAULT 0,
  last_activity_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  is_smart_list BOOLEAN DEFAULT false,
  smart_criteria JSONB DEFAULT '{}',
  last_refreshed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE company_list_items (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  list_id UUID NOT NULL REFERENCES company_lists(id) ON DELETE CASCADE,
  company_id UUID NOT NULL REFERENCES companies(id) ON DELETE CASCADE,
  note TEXT,
  position INTEGER,
  custom_fields JSONB DEFAULT '{}',
  lead_score DECIMAL(5,2) DEFAULT 0.0,
  score_breakdown JSONB DEFAULT '{}',
  score_calculated_at TIMESTAMPTZ,
  status TEXT DEFAULT 'new' CHECK (status IN ('new', 'contacted', 'qualified', 'converted', 'rejected')),
  status_changed_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  added_by_user_id UUID REFERENCES users(id) ON DELETE SET NULL,
  added_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  UNIQUE (list_id, company_id)
);

-- =========================================================
-- AUDIT & LOGGING
-- =========================================================

CREATE TABLE audit_logs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
  user_id UUID REFERENCES users(id) ON DELETE SET NULL,
  entity_type TEXT NOT NULL,
  entity_id UUID,
  action_type TEXT NOT NULL CHECK (action_type IN ('CREATE', 'READ', 'UPDATE', 'DELETE', 'LOGIN', 'LOGOUT', 'SEARCH', 'EXPORT', 'IMPORT')),
  resource_type TEXT,
  resource_path TEXT,
  old_values JSONB,
  new_values JSONB,
  changes JSONB,
  ip_address INET,
  user_agent TEXT,
  session_id TEXT,
  request_id TEXT,
  status_code INTEGER,
  error_message TEXT,
  metadata JSONB,
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

-- =========================================================
-- DATA EXPORT & IMPORT MANAGEMENT
-- =========================================================

CREATE TABLE export_jobs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'expired')),
  scope TEXT,
  format TEXT NOT NULL DEFAULT 'CSV' CHECK (format IN ('CSV', 'Excel', 'JSON')),
  total_records INTEGER DEFAULT 0,
  file_size TEXT,
  download_url TEXT,
  requested_by UUID REFERENCES users(id) ON DELETE SET NULL,
  completed_at TIMESTAMPTZ,
  expires_at TIMESTAMPTZ,
  error_message TEXT,
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE import_jobs (
  id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
  filename TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'completed', 'failed', 'validating')),
  total_records INTEGER DEFAULT 0,
  processed_records INTEGER DEFAULT 0,
  valid_records INTEGER DEFAULT 0,
  error_records INTEGER DEFAULT 0,
  uploaded_by UUID REFERENCES users(id) ON DELETE SET NULL,
  completed_at TIMESTAMPTZ,
  errors JSONB DEFAULT '[]',
  warnings JSONB DEFAULT '[]',
  metadata JSONB DEFAULT '{}',
  created_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMPTZ DEFAULT CURRENT_TIMESTAMP,
  CONSTRAINT valid_record_counts CHECK (
    processed_records <= total_records AND valid_records + error_records <= processed_records
  )
);

-- =========================================================
-- INDEXES FOR PERFORMANCE
-- =========================================================

CREATE INDEX idx_users_organization_email ON users(organization_id, email);
CREATE INDEX idx_users_organization_status ON users(organization_id, status);
CREATE INDEX idx_users_last_login ON users(last_login_at DESC) WHERE last_login_at IS NOT NULL;

CREATE INDEX idx_user_roles_org_user ON user_roles(organization_id, user_id);
CREATE INDEX idx_user_roles_role ON user_roles(role_id);

-- Companies (multi-tenant and source-aware indexes)
CREATE INDEX idx_companies_organization ON companies(organization_id);
CREATE INDEX idx_companies_org_source ON companies(organization_id, data_source);
CREATE INDEX idx_companies_shared_data ON companies(is_shared_data) WHERE is_shared_data = true;
CREATE INDEX idx_companies_name_trgm ON companies USING gin (name_en gin_trgm_ops);
CREATE INDEX idx_companies_size ON companies(company_size) WHERE company_size IS NOT NULL;
CREATE INDEX idx_companies_verification ON companies(verification_status);
CREATE INDEX idx_companies_registration_no ON companies(primary_registration_no) WHERE primary_registration_no IS NOT NULL;
CREATE INDEX idx_companies_province ON companies(province) WHERE province IS NOT NULL;

CREATE INDEX idx_contacts_company ON company_contacts(company_id);
CREATE INDEX idx_contacts_email ON company_contacts(email) WHERE email IS NOT NULL AND is_opted_out = false;

CREATE INDEX idx_company_lists_org_owner ON company_lists(organization_id, owner_user_id);
CREATE INDEX idx_company_lists_visibility ON company_lists(visibility);
CREATE INDEX idx_company_lists_smart ON company_lists(is_smart_list) WHERE is_smart_list = true;
CREATE INDEX idx_company_lists_activity ON company_lists(last_activity_at DESC);

CREATE INDEX idx_list_items_list_position ON company_list_items(list_id, position) WHERE position IS NOT NULL;
CREATE INDEX idx_list_items_company ON company_list_items(company_id);
CREATE INDEX idx_list_items_status ON company_list_items(status);
CREATE INDEX idx_list_items_score ON company_list_items(lead_score DESC) WHERE lead_score IS NOT NULL;

CREATE INDEX idx_audit_logs_entity ON audit_logs(entity_type, entity_id, created_at DESC);
CREATE INDEX idx_audit_logs_user_time ON audit_logs(user_id, created_at DESC);
CREATE INDEX idx_audit_logs_org_time ON audit_logs(organization_id, created_at DESC);
CREATE INDEX idx_audit_logs_action ON audit_logs(action_type, created_at DESC);

-- Export/Import job indexes
CREATE INDEX idx_export_jobs_org_status ON export_jobs(organization_id, status);
CREATE INDEX idx_export_jobs_requested_by ON export_jobs(requested_by);
CREATE INDEX idx_export_jobs_created_at ON export_jobs(created_at DESC);
CREATE INDEX idx_export_jobs_expires_at ON export_jobs(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX idx_import_jobs_org_status ON import_jobs(organization_id, status);
CREATE INDEX idx_import_jobs_uploaded_by ON import_jobs(uploaded_by);
CREATE INDEX idx_import_jobs_created_at ON import_jobs(created_at DESC);

-- =========================================================
-- TRIGGERS
-- =========================================================

CREATE TRIGGER trigger_organizations_updated_at BEFORE UPDATE ON organizations FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_roles_updated_at BEFORE UPDATE ON roles FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_companies_updated_at BEFORE UPDATE ON companies FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_company_contacts_updated_at BEFORE UPDATE ON company_contacts FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_company_lists_updated_at BEFORE UPDATE ON company_lists FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_export_jobs_updated_at BEFORE UPDATE ON export_jobs FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();
CREATE TRIGGER trigger_import_jobs_updated_at BEFORE UPDATE ON import_jobs FOR EACH ROW EXECUTE FUNCTION trigger_updated_at();

CREATE OR REPLACE FUNCTION trigger_update_list_counts()
RETURNS TRIGGER AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE company_lists
    SET total_companies = total_companies + 1, last_activity_at = CURRENT_TIMESTAMP
    WHERE id = NEW.list_id;
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE company_lists
    SET total_companies = GREATEST(total_companies - 1, 0), last_activity_at = CURRENT_TIMESTAMP
    WHERE id = OLD.list_id;
    RETURN OLD;
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER trigger_company_list_items_count
  AFTER INSERT OR DELETE ON company_list_items
  FOR EACH ROW EXECUTE FUNCTION trigger_update_list_counts();
