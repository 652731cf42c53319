-- 005_features_by_version.sql -- `features` LIST-partitioned by layer_version_id: one partition per
-- layer version, so a load never touches the indexes of the rows already stored.
--
-- Why: with one shared table every COPY row updated four shared indexes (the GiST one above all),
-- which made a 100,000-feature load 1.5-1.8 times slower than ogr2ogr into a fresh table. Now a
-- load (server/load.c) does, in its one transaction:
--   sw_features_stage(v)   a fresh table features_v<v> without indexes, shaped like features, with
--                          CHECK (layer_version_id = v) and a generated sw_valid column
--                          (ST_IsValid, computed while the COPY streams in);
--   COPY features_v<v> ... FROM STDIN (FREEZE), then the repair of the rows where NOT sw_valid;
--   sw_features_attach(v)  drops sw_valid, builds the partition's indexes in bulk (sorted GiST and
--                          btree builds) and ATTACHes it: the CHECK constraint proves the bound so
--                          ATTACH does not scan, and the indexes built match the parent's, so they
--                          are attached, not rebuilt.
-- A rolled-back load leaves nothing (the table was created in the transaction). ATTACH takes only
-- a SHARE UPDATE EXCLUSIVE lock on `features`: readers go on; two loads attach one after the other.
--
-- What stays the same for readers: the table name, its columns, `features.id` unique across all
-- versions (one sequence, features_id_seq), and queries such as
--   SELECT f.id, f.code, f.props, f.geom FROM features f JOIN layers l ON f.layer_version_id = l.current_version_id
-- (the executor prunes to the partitions of the versions joined; a version id known when the
-- statement is planned, e.g. a bound parameter, prunes at plan time).
--
-- What changes:
--   - the primary key is (id, layer_version_id): a partitioned table's unique constraints must hold
--     the partition key. id alone stays unique because every row takes it from features_id_seq;
--   - ledger_projects references features by (layer_version_id, feature_id) (the pair is the key
--     now); its own primary key stays feature_id;
--   - features has no foreign key to layer_versions: attaching a partition would have to lock
--     layer_versions (SHARE ROW EXCLUSIVE, to set the key's triggers up) while every load in
--     flight holds a row lock there from inserting its own version, so two loads at once would
--     deadlock. Instead a partition is only made for a version that exists
--     (sw_features_version_check), its bound keeps every row on that version, and deleting a
--     version deletes its features (trigger layer_versions_features), as ON DELETE CASCADE did;
--   - there is no default partition: a row needs its version's partition. The loader makes it;
--     SQL that inserts rows itself first calls sw_features_partition(version_id), which creates
--     (if missing) and attaches an empty, indexed partition for that version. (A default partition
--     would make every load's ATTACH lock it exclusively until commit, stalling every reader.)
--   - features_code is gone: nothing looks features up by code through an index (the diff and
--     the alerts' zone lookups read a whole version, which now means one partition), and
--     building it was a quarter of the time a load spends indexing;
--   - each partition tells the planner that layer_version_id is unique (n_distinct = -1, see
--     sw_features_tune), which is a white lie with a purpose: a join such as the one above is
--     then planned as a nested loop over layers with a pruned, index-served inner side (the
--     partitions of the versions joined), instead of a hash join that reads every version ever
--     loaded. A version id known at planning (a constant or a bound parameter) is unaffected:
--     the partition is chosen at plan time and its statistics say all its rows match.
--
-- Existing rows move into per-version partitions with their ids, and ledger rows keep pointing at
-- them.

DROP VIEW ledger_current;
ALTER TABLE ledger_projects DROP CONSTRAINT ledger_projects_feature_id_fkey;

ALTER SEQUENCE features_id_seq OWNED BY NONE;
ALTER TABLE features RENAME TO features_old;
ALTER INDEX features_pkey RENAME TO features_old_pkey;
ALTER INDEX features_version RENAME TO features_old_version;
ALTER INDEX features_geom RENAME TO features_old_geom;
ALTER INDEX features_code RENAME TO features_old_code;

CREATE TABLE features (
    id               bigint NOT NULL DEFAULT nextval('features_id_seq'),
    layer_version_id integer NOT NULL,
    fid              bigint,                  -- the feature's id in the source file
    code             text,                    -- value of the layer's code field, if any
    props            jsonb NOT NULL DEFAULT '{}',  -- every source attribute, UTF-8
    geom             geometry(Geometry, 4326) NOT NULL,
    CONSTRAINT features_pkey PRIMARY KEY (id, layer_version_id)
) PARTITION BY LIST (layer_version_id);
ALTER SEQUENCE features_id_seq OWNED BY features.id;
CREATE INDEX features_geom ON features USING gist (geom);
-- One value per partition, but it is what lets the planner join features to layers by version
-- with a nested loop whose inner side is pruned to the one partition of each version joined;
-- see sw_features_tune.
CREATE INDEX features_version ON features (layer_version_id);

-- The per-partition statistics setting described at the top (takes effect at the partition's
-- next ANALYZE, which autovacuum runs soon after a load commits).
CREATE FUNCTION sw_features_tune(part text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %I ALTER COLUMN layer_version_id SET (n_distinct = -1)', part);
END
$$;

-- Raises unless version_id is a layer version: a partition exists only for a real version (the
-- partition bound then stands in for the foreign key to layer_versions, see above).
CREATE FUNCTION sw_features_version_check(version_id integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM layer_versions lv WHERE lv.id = version_id) THEN
        RAISE EXCEPTION 'features: no layer version %', version_id USING ERRCODE = 'foreign_key_violation';
    END IF;
END
$$;

-- A version's features go with it (what the foreign key's ON DELETE CASCADE did in 002).
CREATE FUNCTION sw_features_version_gone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM features WHERE layer_version_id = OLD.id;
    RETURN OLD;
END
$$;
CREATE TRIGGER layer_versions_features AFTER DELETE ON layer_versions
    FOR EACH ROW EXECUTE FUNCTION sw_features_version_gone();

-- The empty, indexed partition of version_id (created and attached if missing); returns its name.
-- For SQL that inserts features itself (tests, benches, hand repairs); the loader uses
-- sw_features_stage/sw_features_attach instead, which index after the rows are in.
CREATE FUNCTION sw_features_partition(version_id integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t text := 'features_v' || version_id;
BEGIN
    PERFORM sw_features_version_check(version_id);
    IF NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = 'features'::regclass
                     AND i.inhrelid = to_regclass(t)) THEN
        EXECUTE format('CREATE TABLE %I PARTITION OF features FOR VALUES IN (%s)', t, version_id);
        PERFORM sw_features_tune(t);
    END IF;
    RETURN t;
END
$$;

-- A load's first step: a fresh table for version_id's rows, shaped like features (LIKE keeps it in
-- step with columns later migrations add), with the partition bound as a CHECK constraint and
-- sw_valid = ST_IsValid(geom) computed as each row arrives (the server works out validity while
-- the client is still reading the file, instead of in a second pass), indexed where false (the
-- index goes with the column). Returns the table's name.
-- Raises if version_id already has a partition.
CREATE FUNCTION sw_features_stage(version_id integer) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t text := 'features_v' || version_id;
BEGIN
    PERFORM sw_features_version_check(version_id);
    EXECUTE format('CREATE TABLE %I (LIKE features INCLUDING DEFAULTS,'
                   ' sw_valid boolean GENERATED ALWAYS AS (ST_IsValid(geom)) STORED,'
                   ' CONSTRAINT %I CHECK (layer_version_id = %s))',
                   t, t || '_version', version_id);
    -- holds only the invalid rows: the repair finds them without reading the whole table
    EXECUTE format('CREATE INDEX %I ON %I (id) WHERE NOT sw_valid', t || '_invalid', t);
    RETURN t;
END
$$;

-- A load's last step on the staged table of version_id: drop sw_valid (and its index), build the
-- indexes matching the parent's (primary key, GiST on geom, version) and attach it as the
-- version's partition. Any other index a later migration puts on features is built by ATTACH
-- itself. Returns the name. Index builds run in this backend alone: for a load-sized table a
-- parallel worker costs more to start than it saves (30 ms instead of 80 for the primary key of
-- 100,000 rows).
CREATE FUNCTION sw_features_attach(version_id integer) RETURNS text LANGUAGE plpgsql
SET max_parallel_maintenance_workers = 0 AS $$
DECLARE
    t text := 'features_v' || version_id;
BEGIN
    EXECUTE format('ALTER TABLE %I DROP COLUMN sw_valid', t);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I PRIMARY KEY (id, layer_version_id)', t, t || '_pkey');
    EXECUTE format('CREATE INDEX %I ON %I USING gist (geom)', t || '_geom', t);
    EXECUTE format('CREATE INDEX %I ON %I (layer_version_id)', t || '_version_idx', t);
    PERFORM sw_features_tune(t);
    EXECUTE format('ALTER TABLE features ATTACH PARTITION %I FOR VALUES IN (%s)', t, version_id);
    RETURN t;
END
$$;

-- The rows of the old layout, version by version, ids kept.
DO $$
DECLARE
    v integer;
BEGIN
    FOR v IN SELECT DISTINCT layer_version_id FROM features_old ORDER BY 1 LOOP
        PERFORM sw_features_partition(v);
    END LOOP;
END
$$;
INSERT INTO features (id, layer_version_id, fid, code, props, geom)
SELECT id, layer_version_id, fid, code, props, geom FROM features_old ORDER BY id;
DROP TABLE features_old;

-- statistics for the moved rows (and with them the setting of sw_features_tune)
ANALYZE features;

ALTER TABLE ledger_projects ADD CONSTRAINT ledger_projects_feature_fkey
    FOREIGN KEY (layer_version_id, feature_id) REFERENCES features (layer_version_id, id) ON DELETE CASCADE;

-- As in 004, over the new table.
CREATE VIEW ledger_current AS
SELECT l.name AS layer, lv.version, f.id AS feature_id, f.fid, lp.project_name, lp.approval_no,
       lp.owner, lp.use_type, lp.function_zone, lp.approved_on, lp.valid_from, lp.valid_to,
       lp.shoreline_length_m, lp.length_method, lp.bad_dates, f.props, f.geom
  FROM layers l
  JOIN layer_versions lv ON lv.id = l.current_version_id
  JOIN features f ON f.layer_version_id = lv.id
  JOIN ledger_projects lp ON lp.feature_id = f.id AND lp.layer_version_id = f.layer_version_id
 WHERE l.kind = 'shoreline_project';
