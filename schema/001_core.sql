-- 001_core.sql -- accounts, vessel registry and the time-partitioned position history.
CREATE EXTENSION IF NOT EXISTS postgis;

-- Server-wide settings (the token signing key lives here so every process agrees).
CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE users (
    id            serial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,             -- libsodium crypto_pwhash_str (Argon2id)
    role          text NOT NULL CHECK (role IN ('viewer', 'enforcer', 'planner', 'admin')),
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE vessels (
    id           serial PRIMARY KEY,
    name         text NOT NULL,
    registration text UNIQUE,
    kind         text NOT NULL DEFAULT 'sand_mining'
                 CHECK (kind IN ('sand_mining', 'sand_transport', 'other')),
    terminal     text UNIQUE,                -- JT/T 808 phone number, leading zeros stripped
    mmsi         bigint UNIQUE,
    owner        text,
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'seized', 'retired')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    -- the newest position by device time, kept for the live map and "last report"
    last_time    timestamptz,
    last_recv    timestamptz,
    last_geom    geometry(Point, 4326),
    last_speed_kn real,
    last_course  real,
    CHECK (terminal IS NULL OR terminal ~ '^[1-9][0-9]*$')
);

-- Position history, partitioned by device time (one partition a month, plus a
-- default partition so that any old or odd device time is still stored).
CREATE TABLE positions (
    vessel_id   integer NOT NULL,
    device_time timestamptz NOT NULL,
    recv_time   timestamptz NOT NULL,
    geom        geometry(Point, 4326) NOT NULL,
    speed_kn    real,
    course      real,
    altitude_m  real,
    fix_valid   boolean NOT NULL DEFAULT true,
    alarm_bits  bigint NOT NULL DEFAULT 0,
    status_bits bigint NOT NULL DEFAULT 0,
    protocol    text NOT NULL,               -- jt808, nmea, ais, http
    raw         text                         -- the message as received (hex or text), as evidence
) PARTITION BY RANGE (device_time);

CREATE TABLE positions_default PARTITION OF positions DEFAULT;
CREATE INDEX positions_vessel_time ON positions (vessel_id, device_time);
CREATE INDEX positions_geom ON positions USING gist (geom);

-- Creates the monthly partitions covering [from_month, to_month]; idempotent.
CREATE FUNCTION sw_ensure_position_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    m date := date_trunc('month', from_ts AT TIME ZONE 'UTC')::date;
    last date := date_trunc('month', to_ts AT TIME ZONE 'UTC')::date;
    n integer := 0;
    part text;
BEGIN
    WHILE m <= last LOOP
        part := format('positions_%s', to_char(m, 'YYYYMM'));
        IF to_regclass(part) IS NULL THEN
            -- rows already in the default partition for this month must move first
            EXECUTE format('CREATE TEMP TABLE sw_move ON COMMIT DROP AS
                            SELECT * FROM positions_default
                            WHERE device_time >= %L::timestamptz AND device_time < %L::timestamptz',
                           m::text || ' 00:00+00', (m + interval '1 month')::date::text || ' 00:00+00');
            EXECUTE format('DELETE FROM positions_default
                            WHERE device_time >= %L::timestamptz AND device_time < %L::timestamptz',
                           m::text || ' 00:00+00', (m + interval '1 month')::date::text || ' 00:00+00');
            EXECUTE format('CREATE TABLE %I PARTITION OF positions FOR VALUES FROM (%L) TO (%L)',
                           part, m::text || ' 00:00+00', (m + interval '1 month')::date::text || ' 00:00+00');
            INSERT INTO positions SELECT * FROM sw_move;
            DROP TABLE sw_move;
            n := n + 1;
        END IF;
        m := (m + interval '1 month')::date;
    END LOOP;
    RETURN n;
END $$;

-- ISO-8601 with the China Standard Time offset, as every API answer shows times.
CREATE FUNCTION sw_iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD"T"HH24:MI:SS.MS"+08:00"')
$$;
