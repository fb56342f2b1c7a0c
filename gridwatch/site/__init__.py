"""The site model: a district's grid hierarchy, buildings, devices and people, read from a folder.

A site folder (``site/demo/`` is one) holds five files. Every id must be a valid MQTT topic
segment (see gridwatch.topics) and unique among its kind; areas (district, streets,
communities, grids) share one id space.

``site.yaml``
    ``id`` (the {site} topic segment), ``name``, ``timezone`` (IANA name, default
    Asia/Shanghai), ``district: {id, name, name_en}`` and
    ``streets: [{id, name, name_en, communities: [{id, name, name_en, households}]}]``.
``grids.geojson``
    A FeatureCollection with one Feature per grid. ``properties: {id, name, name_en,
    community_id, households}``; the Feature's own ``id``, when present, equals
    ``properties.id``. The geometry is a Polygon or MultiPolygon of [lon, lat] positions
    (WGS 84) whose rings are closed, have at least four positions and do not cross themselves.
``buildings.yaml``
    ``buildings: [{id, grid_id, name, floors, lat, lon}]``, the position inside its grid.
``devices.yaml``
    ``devices: [{id, kind, grid_id, building_id, name, lat, lon, config}]``. ``kind`` is a
    gridwatch.domain.DeviceKind and ``config`` is checked against that kind's model in
    gridwatch.site.devices (unknown keys are errors). Zones are polygons in normalised picture
    coordinates (x to the right, y down, both 0..1). Linked devices (a fire-lane camera's
    alarm, a shed's sockets, ...) must exist, be of the expected kind and sit in the same grid;
    links written on both sides must agree. A facade camera's floor lines go up: floors
    ascending, y descending.
``people.yaml``
    ``departments: [{id, name, name_en, alert_types, contact}]`` (the department that owns an
    alert type) and ``people: [{id, name, role, area_id, department, phone, channels,
    roster}]``. A grid worker's area is a grid, a property manager's a community.
    ``channels`` are notification URLs in apprise form (``mailto://``, ``dingtalk://``,
    ``wecombot://``, ``json://`` ...). ``roster`` lists duty shifts ``{grid_ids: [...],
    weekdays: [1..7], starts_at: "HH:MM", ends_at: "HH:MM"}`` (1 = Monday, times quoted):
    during a shift the person answers for each of its grids. How shifts are read, overnight
    ones included, is told in gridwatch.site.duty.

load_site() checks the whole folder and raises SiteError naming the file, the line (YAML) or
the feature index (GeoJSON), the item's id and what is wrong. store_site() upserts the model
into the database; items removed from the folder are left in place (alerts may refer to them).

Modules: fields (shared field types), areas, devices, people (the models per concept), model
(Site), duty (on_duty), geometry (outlines), files (reading, YAML line marks, SiteError),
loader (load_site), checks (across files) and store (store_site).
"""

from gridwatch.site.areas import Building, Community, District, Geometry, Grid, Street
from gridwatch.site.devices import (
    DEVICE_TYPES,
    AnyDevice,
    ChargingSocket,
    ChargingSocketConfig,
    Device,
    DeviceConfig,
    ElevatorCamera,
    ElevatorCameraConfig,
    ElevatorController,
    ElevatorControllerConfig,
    FacadeCamera,
    FacadeCameraConfig,
    FireDoor,
    FireDoorConfig,
    FireLaneCamera,
    FireLaneCameraConfig,
    FloorLine,
    HydrantPressure,
    HydrantPressureConfig,
    ShedCamera,
    ShedCameraConfig,
    SmokeDetector,
    SmokeDetectorConfig,
    SoundLightAlarm,
    SoundLightAlarmConfig,
)
from gridwatch.site.duty import DAY_S, WEEK_S, on_duty
from gridwatch.site.fields import (
    DEFAULT_TIMEZONE,
    Channel,
    ClockTime,
    Fps,
    Id,
    Latitude,
    Longitude,
    StrictModel,
    TimeZoneName,
    Zone,
    site_timezone,
)
from gridwatch.site.files import (
    BUILDINGS_FILE,
    DEVICES_FILE,
    GRIDS_FILE,
    MAX_REPORTED_PROBLEMS,
    PEOPLE_FILE,
    SITE_FILE,
    SiteError,
)
from gridwatch.site.geometry import geometry_problem, grid_contains
from gridwatch.site.loader import GRID_PROPERTIES, load_site
from gridwatch.site.model import Site
from gridwatch.site.people import (
    ROLE_AREA_LEVEL,
    Department,
    DutyShift,
    Person,
    PersonRole,
    RosterRow,
)
from gridwatch.site.store import store_site

__all__ = [
    "BUILDINGS_FILE",
    "DAY_S",
    "DEFAULT_TIMEZONE",
    "DEVICES_FILE",
    "DEVICE_TYPES",
    "GRIDS_FILE",
    "GRID_PROPERTIES",
    "MAX_REPORTED_PROBLEMS",
    "PEOPLE_FILE",
    "ROLE_AREA_LEVEL",
    "SITE_FILE",
    "WEEK_S",
    "AnyDevice",
    "Building",
    "Channel",
    "ChargingSocket",
    "ChargingSocketConfig",
    "ClockTime",
    "Community",
    "Department",
    "Device",
    "DeviceConfig",
    "District",
    "DutyShift",
    "ElevatorCamera",
    "ElevatorCameraConfig",
    "ElevatorController",
    "ElevatorControllerConfig",
    "FacadeCamera",
    "FacadeCameraConfig",
    "FireDoor",
    "FireDoorConfig",
    "FireLaneCamera",
    "FireLaneCameraConfig",
    "FloorLine",
    "Fps",
    "Geometry",
    "Grid",
    "HydrantPressure",
    "HydrantPressureConfig",
    "Id",
    "Latitude",
    "Longitude",
    "Person",
    "PersonRole",
    "RosterRow",
    "ShedCamera",
    "ShedCameraConfig",
    "Site",
    "SiteError",
    "SmokeDetector",
    "SmokeDetectorConfig",
    "SoundLightAlarm",
    "SoundLightAlarmConfig",
    "Street",
    "StrictModel",
    "TimeZoneName",
    "Zone",
    "geometry_problem",
    "grid_contains",
    "load_site",
    "on_duty",
    "site_timezone",
    "store_site",
]
