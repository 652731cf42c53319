-- 006_alerts.sql -- permits, closed seasons, alerts and the numbered alert event log.

-- 采砂许可证: a vessel may mine in one zone (a feature of a mining_zone layer,
-- named by the layer and the feature's code) between two dates, within daily
-- hours in local time (UTC+8). No hours: any hour.
CREATE TABLE permits (
    id          serial PRIMARY KEY,
    vessel_id   integer NOT NULL REFERENCES vessels (id) ON DELETE CASCADE,
    number      text NOT NULL UNIQUE,
    zone_layer  text NOT NULL,
    zone_code   text NOT NULL,
    valid_from  date NOT NULL,
    valid_to    date NOT NULL,
    hours_from  time,
    hours_to    time,
    note        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    CHECK (valid_to >= valid_from),
    CHECK ((hours_from IS NULL) = (hours_to IS NULL))
);
CREATE INDEX permits_vessel ON permits (vessel_id);

-- 禁采期: a date range closing one zone (zone_code) or a whole layer (zone_code
-- NULL); yearly ranges repeat every year (only month and day count).
CREATE TABLE closed_seasons (
    id          serial PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    zone_layer  text NOT NULL,
    zone_code   text,
    date_from   date NOT NULL,
    date_to     date NOT NULL,
    yearly      boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text,
    CHECK (yearly OR date_to >= date_from)
);

-- One row per alert: opened, updated and closed on device time; the rule's
-- detail and the fixes that fired it; acknowledgement by enforcement.
-- Ids come from the sequence in blocks reserved by each server process.
CREATE SEQUENCE alerts_id_seq;
CREATE TABLE alerts (
    id          bigint PRIMARY KEY DEFAULT nextval('alerts_id_seq'),
    vessel_id   integer REFERENCES vessels (id) ON DELETE SET NULL,
    kind        text NOT NULL CHECK (kind IN ('illegal_stop', 'outside_zone', 'off_hours',
                    'no_mining_zone', 'protection_zone', 'no_permit', 'unregistered',
                    'offline', 'jump', 'device_alarm')),
    subject     text NOT NULL DEFAULT '',   -- the zone "layer/code", or a terminal number
    permit      text,
    severity    smallint NOT NULL DEFAULT 2,
    late        boolean NOT NULL DEFAULT false,
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    closed_at   timestamptz,
    geom        geometry(Point, 4326),
    detail      jsonb NOT NULL DEFAULT '{}',
    evidence    jsonb NOT NULL DEFAULT '[]',
    ack_by      text,
    ack_at      timestamptz,
    ack_note    text
);
ALTER SEQUENCE alerts_id_seq OWNED BY alerts.id;
CREATE INDEX alerts_open ON alerts (kind) WHERE closed_at IS NULL;
CREATE INDEX alerts_vessel ON alerts (vessel_id, opened_at DESC);
CREATE INDEX alerts_opened ON alerts (opened_at DESC);

-- Every change of an alert, numbered: a WebSocket client that reconnects
-- with ?since=<seq> gets the events it missed from here.
CREATE TABLE alert_events (
    seq       bigserial PRIMARY KEY,
    alert_id  bigint NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    event     text NOT NULL CHECK (event IN ('open', 'update', 'close', 'ack')),
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_alert ON alert_events (alert_id);

-- The state users see.
CREATE FUNCTION sw_alert_state(a alerts) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN a.closed_at IS NOT NULL THEN 'closed'
                WHEN a.ack_at IS NOT NULL THEN 'acknowledged'
                ELSE 'open' END
$$;

-- An alert as the API and the live feed show it (seq: the event's number, or NULL).
CREATE FUNCTION sw_alert_json(a alerts, seq bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_strip_nulls(jsonb_build_object('type', 'alert', 'seq', seq)) || jsonb_build_object(
        'id', a.id,
        'vessel', a.vessel_id,
        'vessel_name', (SELECT v.name FROM vessels v WHERE v.id = a.vessel_id),
        'kind', a.kind,
        'state', sw_alert_state(a),
        'severity', a.severity,
        'time', sw_iso(a.updated_at),
        'opened', sw_iso(a.opened_at),
        'updated', sw_iso(a.updated_at),
        'closed', sw_iso(a.closed_at),
        'lon', round(ST_X(a.geom)::numeric, 7),
        'lat', round(ST_Y(a.geom)::numeric, 7),
        'subject', a.subject,
        'permit', coalesce(a.permit, ''),
        'late', a.late,
        'detail', a.detail,
        'evidence', a.evidence,
        'ack', CASE WHEN a.ack_at IS NULL THEN NULL ELSE
            jsonb_build_object('by', a.ack_by, 'at', sw_iso(a.ack_at), 'note', a.ack_note) END)
$$;
