-- 004_ledger.sql -- shoreline ledger (岸线利用项目台账): typed attributes of shoreline_project features.
--
-- features.props keeps every source column as loaded; ledger_projects adds, per feature of a
-- shoreline_project layer version, the typed fields mapped from those columns and the shoreline
-- length. Rows are (re)made by sw_ledger_fill(version_id, mapping), which the loader calls inside
-- the load's transaction; a feature's row goes with the feature (ON DELETE CASCADE).

CREATE TABLE ledger_projects (
    feature_id         bigint PRIMARY KEY REFERENCES features (id) ON DELETE CASCADE,
    layer_version_id   integer NOT NULL REFERENCES layer_versions (id) ON DELETE CASCADE,
    project_name       text,
    approval_no        text,
    owner              text,
    use_type           text,
    function_zone      text,
    approved_on        date,
    valid_from         date,
    valid_to           date,
    shoreline_length_m double precision,  -- geodesic metres; NULL for points
    length_method      text CHECK (length_method IN ('line', 'river_50m', 'half_perimeter')),
    sources            jsonb NOT NULL DEFAULT '{}',  -- field -> the source column it came from
    bad_dates          jsonb NOT NULL DEFAULT '{}'   -- field -> source text that is no date
);
CREATE INDEX ledger_projects_version ON ledger_projects (layer_version_id);

-- The built-in mapping: ledger field -> source columns, tried in order. The C side keeps the
-- same text in ledger_default_mapping() (server/ledger.c); change both together.
CREATE FUNCTION sw_ledger_default_mapping() RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
SELECT '{"project_name": ["项目名称", "名称", "project_name", "name"],
  "approval_no": ["批复文号", "批准文号", "审批文号", "approval_no"],
  "owner": ["业主单位", "建设单位", "权属人", "owner"],
  "use_type": ["利用类型", "用途", "项目类型", "use_type"],
  "function_zone": ["功能区", "岸线功能区", "function_zone"],
  "approved_on": ["批复日期", "批准日期", "审批日期", "approved_on"],
  "valid_from": ["起始日期", "有效期起", "valid_from"],
  "valid_to": ["终止日期", "有效期止", "valid_to"]}'::jsonb
$$;

-- A date from the forms planners type: 2021-05-06, 2021/5/6, 2021.5.6, 2021年5月6日 (日
-- optional), 20210506, each optionally followed by a time ("2021-05-06 00:00:00", "...T...").
-- NULL for NULL, blank, other forms and impossible dates (2021-02-30).
CREATE FUNCTION sw_ledger_date(s text) RETURNS date LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    m text[];
BEGIN
    IF s IS NULL THEN
        RETURN NULL;
    END IF;
    m := regexp_match(s, '^\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[\sT].*)?$');
    IF m IS NULL THEN
        m := regexp_match(s, '^\s*(\d{4})(\d{2})(\d{2})\s*$');
    END IF;
    IF m IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN make_date(m[1]::int, m[2]::int, m[3]::int);
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format OR numeric_value_out_of_range THEN
    RETURN NULL;
END
$$;

-- The mapping to use: the built-in one with the given fields replaced (NULL: the built-in one).
-- A given mapping must be an object whose keys are ledger fields and whose values are arrays of
-- column names (strings); [] maps a field to nothing. Anything else raises with a message
-- naming the offending key.
CREATE FUNCTION sw_ledger_mapping(mapping jsonb) RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    k text;
    v jsonb;
BEGIN
    IF mapping IS NULL THEN
        RETURN sw_ledger_default_mapping();
    END IF;
    IF jsonb_typeof(mapping) <> 'object' THEN
        RAISE EXCEPTION 'ledger mapping must be a JSON object of field: [column names], not %',
            jsonb_typeof(mapping) USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(mapping) LOOP
        IF NOT sw_ledger_default_mapping() ? k THEN
            RAISE EXCEPTION 'ledger mapping: "%" is not a ledger field (project_name, approval_no, owner, use_type, function_zone, approved_on, valid_from, valid_to)',
                k USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF jsonb_typeof(v) <> 'array' OR EXISTS (SELECT 1 FROM jsonb_array_elements(v) e
                                                 WHERE jsonb_typeof(e) <> 'string') THEN
            RAISE EXCEPTION 'ledger mapping: "%" must be an array of column names (strings)', k
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    RETURN sw_ledger_default_mapping() || mapping;
END
$$;

-- The first source column of cols (a JSON array of names) with a non-blank value in props:
-- {"column": name, "value": trimmed text}, or NULL when none has one.
CREATE FUNCTION sw_ledger_pick(props jsonb, cols jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
SELECT jsonb_build_object('column', c.name, 'value', btrim(props ->> c.name))
  FROM jsonb_array_elements_text(cols) WITH ORDINALITY c(name, o)
 WHERE btrim(props ->> c.name) <> ''
 ORDER BY c.o LIMIT 1
$$;

-- Shoreline length in metres of geometry g (EPSG:4326), geodesic (on the WGS 84 spheroid):
--   lines:    the length of the line;
--   polygons: the length of the boundary lying "along the river", i.e. within 50 m of any
--             feature of the current version of any layer of kind 'river' (the boundary cut by
--             ST_Buffer(river::geography, 50), a buffer built in a best-fit UTM zone); a polygon
--             with no river within 50 m gets 0. When no river layer has any feature at all,
--             half the geodesic perimeter (a project usually touches the bank along one of its
--             two long sides), and the method says so;
--   points:   NULL (no length).
-- Returns (length, method). has_river says whether any river feature exists (the caller
-- computes it once per fill).
CREATE FUNCTION sw_ledger_length(g geometry, has_river boolean,
                                 OUT length_m double precision, OUT method text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    poly geometry;
    river geometry;
BEGIN
    IF ST_Dimension(g) = 0 THEN
        RETURN;
    END IF;
    IF ST_Dimension(g) = 1 THEN
        length_m := ST_Length(g::geography);
        method := 'line';
        RETURN;
    END IF;
    poly := ST_CollectionExtract(g, 3);
    IF NOT has_river THEN
        length_m := ST_Perimeter(poly::geography) / 2;
        method := 'half_perimeter';
        RETURN;
    END IF;
    method := 'river_50m';
    -- Only the river near the polygon matters: clip to its box grown by 0.01° (≥ 500 m below
    -- 60° latitude, far more than 50 m) so a long river is not buffered whole per project.
    SELECT ST_Union(ST_ClipByBox2D(r.geom, ST_Expand(poly, 0.01))) INTO river
      FROM layers l JOIN features r ON r.layer_version_id = l.current_version_id
     WHERE l.kind = 'river' AND r.geom && ST_Expand(poly, 0.01)
       AND ST_DWithin(r.geom::geography, poly::geography, 50);
    IF river IS NULL THEN
        length_m := 0;
        RETURN;
    END IF;
    length_m := coalesce(ST_Length(ST_Intersection(ST_Boundary(poly),
                                                   ST_Buffer(river::geography, 50)::geometry)::geography), 0);
END
$$;

-- (Re)fills ledger_projects for layer version version_id from its features' props with the
-- given mapping (NULL: the built-in one; see sw_ledger_mapping). For each ledger field the first
-- listed source column with a non-blank value wins; date fields that do not parse stay NULL
-- and are recorded in bad_dates. Returns the number of rows filled (the version's features).
-- Raises on a bad mapping or an unknown version. Idempotent: earlier rows of the version go.
CREATE FUNCTION sw_ledger_fill(version_id integer, mapping jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    m jsonb := sw_ledger_mapping(mapping);
    has_river boolean;
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM layer_versions WHERE id = version_id) THEN
        RAISE EXCEPTION 'ledger: no layer version %', version_id USING ERRCODE = 'no_data_found';
    END IF;
    has_river := EXISTS (SELECT 1 FROM layers l JOIN features r ON r.layer_version_id = l.current_version_id
                          WHERE l.kind = 'river');
    DELETE FROM ledger_projects lp WHERE lp.layer_version_id = sw_ledger_fill.version_id;
    INSERT INTO ledger_projects (feature_id, layer_version_id, project_name, approval_no, owner,
                                 use_type, function_zone, approved_on, valid_from, valid_to,
                                 shoreline_length_m, length_method, sources, bad_dates)
    SELECT f.id, f.layer_version_id,
           p.project_name ->> 'value', p.approval_no ->> 'value', p.owner ->> 'value',
           p.use_type ->> 'value', p.function_zone ->> 'value',
           sw_ledger_date(p.approved_on ->> 'value'), sw_ledger_date(p.valid_from ->> 'value'),
           sw_ledger_date(p.valid_to ->> 'value'),
           len.length_m, len.method,
           jsonb_strip_nulls(jsonb_build_object(
               'project_name', p.project_name -> 'column', 'approval_no', p.approval_no -> 'column',
               'owner', p.owner -> 'column', 'use_type', p.use_type -> 'column',
               'function_zone', p.function_zone -> 'column', 'approved_on', p.approved_on -> 'column',
               'valid_from', p.valid_from -> 'column', 'valid_to', p.valid_to -> 'column')),
           jsonb_strip_nulls(jsonb_build_object(
               'approved_on', CASE WHEN sw_ledger_date(p.approved_on ->> 'value') IS NULL
                                   THEN p.approved_on -> 'value' END,
               'valid_from', CASE WHEN sw_ledger_date(p.valid_from ->> 'value') IS NULL
                                  THEN p.valid_from -> 'value' END,
               'valid_to', CASE WHEN sw_ledger_date(p.valid_to ->> 'value') IS NULL
                                THEN p.valid_to -> 'value' END))
      FROM features f
      CROSS JOIN LATERAL (SELECT
           sw_ledger_pick(f.props, m -> 'project_name') AS project_name,
           sw_ledger_pick(f.props, m -> 'approval_no') AS approval_no,
           sw_ledger_pick(f.props, m -> 'owner') AS owner,
           sw_ledger_pick(f.props, m -> 'use_type') AS use_type,
           sw_ledger_pick(f.props, m -> 'function_zone') AS function_zone,
           sw_ledger_pick(f.props, m -> 'approved_on') AS approved_on,
           sw_ledger_pick(f.props, m -> 'valid_from') AS valid_from,
           sw_ledger_pick(f.props, m -> 'valid_to') AS valid_to) p
      CROSS JOIN LATERAL sw_ledger_length(f.geom, has_river) len
     WHERE f.layer_version_id = sw_ledger_fill.version_id;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END
$$;

-- The typed fields of one feature as GeoJSON properties, '{}' when it has no ledger row. The
-- OGC items query merges them over the source props: f.props || sw_ledger_props(f.id).
-- Dates are ISO 8601 (YYYY-MM-DD); shoreline_length_m is rounded to centimetres.
CREATE FUNCTION sw_ledger_props(fid bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
SELECT coalesce((SELECT jsonb_strip_nulls(jsonb_build_object(
           'project_name', lp.project_name, 'approval_no', lp.approval_no, 'owner', lp.owner,
           'use_type', lp.use_type, 'function_zone', lp.function_zone,
           'approved_on', lp.approved_on, 'valid_from', lp.valid_from, 'valid_to', lp.valid_to,
           'shoreline_length_m', round(lp.shoreline_length_m::numeric, 2),
           'length_method', lp.length_method))
       FROM ledger_projects lp WHERE lp.feature_id = fid), '{}'::jsonb)
$$;

-- Every ledger project of every layer's current version, typed, with the source props and
-- geometry: for QGIS/psql users and reports (illegal, idle or excessive occupation queries).
CREATE VIEW ledger_current AS
SELECT l.name AS layer, lv.version, f.id AS feature_id, f.fid, lp.project_name, lp.approval_no,
       lp.owner, lp.use_type, lp.function_zone, lp.approved_on, lp.valid_from, lp.valid_to,
       lp.shoreline_length_m, lp.length_method, lp.bad_dates, f.props, f.geom
  FROM layers l
  JOIN layer_versions lv ON lv.id = l.current_version_id
  JOIN features f ON f.layer_version_id = lv.id
  JOIN ledger_projects lp ON lp.feature_id = f.id
 WHERE l.kind = 'shoreline_project';
