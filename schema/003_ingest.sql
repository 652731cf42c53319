-- 003_ingest.sql -- every feed: AIS static data on vessels, blind-area positions, terminal events.

-- Static data that AIS transponders broadcast (types 5, 19, 24), kept on the vessel.
ALTER TABLE vessels
    ADD COLUMN ais_name          text,
    ADD COLUMN callsign          text,
    ADD COLUMN ship_type         smallint,
    ADD COLUMN length_m          real,
    ADD COLUMN beam_m            real,
    ADD COLUMN imo               bigint,
    ADD COLUMN destination       text,
    ADD COLUMN ais_class         text CHECK (ais_class IN ('A', 'B')),
    ADD COLUMN static_updated_at timestamptz,
    -- made by the server for an AIS MMSI that was not in the registry
    ADD COLUMN auto_created      boolean NOT NULL DEFAULT false;

-- Positions a terminal stored during a signal gap and re-sent later
-- (JT/T 808 0x0704 type 1): history, never the live "last position".
ALTER TABLE positions ADD COLUMN blind boolean NOT NULL DEFAULT false;

-- Terminals that tried to register, authenticate or report without being
-- in the registry (the rules engine turns these into `unregistered` alerts).
CREATE TABLE terminal_events (
    id        bigserial PRIMARY KEY,
    time      timestamptz NOT NULL DEFAULT now(),
    protocol  text NOT NULL,                  -- jt808, nmea, ais, http
    identity  text NOT NULL,                  -- phone number, MMSI, ...
    peer      text,                           -- remote address
    event     text NOT NULL CHECK (event IN ('unregistered', 'auth_failed', 'retired')),
    detail    text
);
CREATE INDEX terminal_events_time ON terminal_events (time DESC);
CREATE INDEX terminal_events_identity ON terminal_events (identity, time DESC);

-- The newest position is rewritten every couple of seconds for every moving
-- vessel: room on each page keeps those updates HOT (no index churn).
ALTER TABLE vessels SET (fillfactor = 50);
