-- One row per site folder stored: its name, the time zone of its duty rosters and its district.
CREATE TABLE sites (
    id           text PRIMARY KEY,           -- the {site} topic segment, devices.site_id
    name         text NOT NULL,
    timezone     text NOT NULL DEFAULT 'Asia/Shanghai',   -- IANA name; rosters are local time
    district_id  text REFERENCES areas (id)
);
