-- 002_layers.sql -- GIS layers (river, zones, parking points, ledger) with versions.
CREATE TABLE layers (
    id          serial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    kind        text NOT NULL CHECK (kind IN ('shoreline_project', 'mining_zone', 'parking', 'no_mining',
                                              'protection', 'function_zone', 'river')),
    title       text,
    code_field  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    current_version_id integer
);

-- Every load is a new version; older versions stay queryable.
CREATE TABLE layer_versions (
    id             serial PRIMARY KEY,
    layer_id       integer NOT NULL REFERENCES layers (id) ON DELETE CASCADE,
    version        integer NOT NULL,
    loaded_at      timestamptz NOT NULL DEFAULT now(),
    loaded_by      text,
    source_file    text,
    source_srs     text,
    feature_count  integer NOT NULL DEFAULT 0,
    repaired_count integer NOT NULL DEFAULT 0,
    UNIQUE (layer_id, version)
);

ALTER TABLE layers ADD CONSTRAINT layers_current_version_fk
    FOREIGN KEY (current_version_id) REFERENCES layer_versions (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE features (
    id               bigserial PRIMARY KEY,
    layer_version_id integer NOT NULL REFERENCES layer_versions (id) ON DELETE CASCADE,
    fid              bigint,                  -- the feature's id in the source file
    code             text,                    -- value of the layer's code field, if any
    props            jsonb NOT NULL DEFAULT '{}',  -- every source attribute, UTF-8
    geom             geometry(Geometry, 4326) NOT NULL
);
CREATE INDEX features_version ON features (layer_version_id);
CREATE INDEX features_geom ON features USING gist (geom);
CREATE INDEX features_code ON features (layer_version_id, code);
