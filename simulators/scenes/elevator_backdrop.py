"""The elevator car's static picture, ray cast once per scene, and its sliding doors.

Each pixel looks up the surface it sees: floor, walls, ceiling light, the door wall with its
button panel and floor displays, and, through the door opening, the door frame and the
landing beyond. Two pictures are kept, doors open and doors closed; a frame takes the door
panels from the closed one as far as the doors are shut.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from simulators.scenes.elevator_layout import NEAR, WALL_FINISHES, CarCamera, CarLayout

JAMB = 0.12  # m: depth of the door frame between the car and the landing
HALL_DEPTH = 2.6
HALL_HEIGHT = 2.7
FLOOR, CEILING, SIDE_WALL, BACK_WALL, DOOR_WALL = 0, 1, 2, 3, 4
JAMB_SIDE, LINTEL, HALL_FLOOR, HALL_FAR, HALL_SIDE, HALL_CEILING = 5, 6, 7, 8, 9, 10


@dataclass(frozen=True)
class CarBackdrop:
    """The empty car with its doors open and closed, and where the opening lies in the picture."""

    open_view: np.ndarray  # BGR uint8, the landing showing through the open door
    closed_view: np.ndarray
    opening: tuple[int, int, int, int]  # (y0, y1, x0, x1) bounding the door opening
    opening_mask: np.ndarray  # bool (height, width): pixels that look out through the door
    door_x: np.ndarray  # float32 over `opening`: door-plane x (m) each ray crosses, nan if wall
    displays: tuple[tuple[float, float, float], ...]  # (x, y, height) px of floor indicators


def paint_car(car: CarLayout, camera: CarCamera, rng: np.random.Generator) -> CarBackdrop:
    """Ray cast the empty car once: walls, floor, ceiling light, door frame and the landing."""
    h, w = camera.height, camera.width
    origin, dirs = camera.position, camera.rays()
    t, face = _nearest(origin, dirs, _car_planes(car))
    hit = origin + dirs * t[:, None]
    opening = (
        (face == DOOR_WALL)
        & (hit[:, 0] > car.door_x0)
        & (hit[:, 0] < car.door_x1)
        & (hit[:, 2] < car.door_height)
    )
    through = np.nonzero(opening)[0]
    t_hall, face_hall = _nearest(origin, dirs[through], _hall_planes(car))
    door_hit = hit[through].copy()
    face[through] = face_hall
    hit[through] = origin + dirs[through] * t_hall[:, None]

    grids = [rng.uniform(-1, 1, (64, 64)) for _ in range(4)]
    colour = np.zeros((h * w, 3), np.float64)
    for face_id in range(HALL_CEILING + 1):
        chosen = face == face_id
        if chosen.any():
            colour[chosen] = _material(face_id, hit[chosen], car, grids)
    closed = colour.copy()
    closed[through] = _door_panels(door_hit, car, grids) * _car_light(door_hit, car)[:, None]

    yy, xx = np.mgrid[0:h, 0:w]
    radius2 = ((xx - w / 2) / (w / 2)) ** 2 * 0.6 + ((yy - h / 2) / (h / 2)) ** 2 * 0.4
    shade = (1.0 - 0.22 * radius2).reshape(-1, 1)
    grain = rng.normal(0, 1.6, (h * w, 1))
    views = []
    for picture in (colour, closed):
        image = np.clip(picture * shade + grain, 0, 255).astype(np.uint8).reshape(h, w, 3)
        _handrails(image, car, camera)
        views.append(cv2.GaussianBlur(image, (0, 0), 0.7))

    mask = opening.reshape(h, w)
    ys, xs = np.nonzero(mask)
    box = (
        (int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1)
        if len(ys)
        else (0, 0, 0, 0)
    )
    door_x = np.full(h * w, np.nan, np.float32)
    door_x[through] = door_hit[:, 0]
    door_x = door_x.reshape(h, w)[box[0] : box[1], box[2] : box[3]]
    return CarBackdrop(views[0], views[1], box, mask, door_x, _displays(car, camera))


def paint_doors(frame: np.ndarray, backdrop: CarBackdrop, car: CarLayout, fraction: float) -> None:
    """Slide the door panels to `fraction` open (0 closed, 1 open) in `frame`, in place."""
    if fraction >= 1.0:
        return
    y0, y1, x0, x1 = backdrop.opening
    door_x = backdrop.door_x
    if car.centre_opening:
        middle, half = (car.door_x0 + car.door_x1) / 2, car.door_width / 2
        gap = np.abs(door_x - middle)
        panel = gap >= fraction * half
        seam = np.abs(gap - fraction * half) < 0.006
    else:
        edge = car.door_x1 - fraction * car.door_width
        panel = door_x <= edge
        inner = car.door_x1 - car.door_width / 2 - fraction * car.door_width / 2
        seam = (np.abs(door_x - edge) < 0.006) | (np.abs(door_x - inner) < 0.004)
    region = frame[y0:y1, x0:x1]
    np.copyto(region, backdrop.closed_view[y0:y1, x0:x1], where=panel[..., None])
    region[seam & panel] //= 2


Plane = tuple[int, int, float, tuple[tuple[int, float, float], ...]]


def _car_planes(car: CarLayout) -> list[Plane]:
    return [
        (FLOOR, 2, 0.0, ()),
        (CEILING, 2, car.height, ()),
        (SIDE_WALL, 0, 0.0, ()),
        (SIDE_WALL, 0, car.width, ()),
        (BACK_WALL, 1, 0.0, ()),
        (DOOR_WALL, 1, car.depth, ()),
    ]


def _hall_planes(car: CarLayout) -> list[Plane]:
    d, far = car.depth, car.depth + JAMB + HALL_DEPTH
    in_jamb = ((1, d, d + JAMB), (2, 0.0, car.door_height))
    hall_x = (car.door_x0 - 1.6, car.door_x1 + 1.6)
    return [
        (JAMB_SIDE, 0, car.door_x0, in_jamb),
        (JAMB_SIDE, 0, car.door_x1, in_jamb),
        (LINTEL, 2, car.door_height, ((1, d, d + JAMB),)),
        (HALL_FLOOR, 2, 0.0, ((1, d, far),)),
        (HALL_FAR, 1, far, ()),
        (HALL_SIDE, 0, hall_x[0], ((1, d + JAMB, far),)),
        (HALL_SIDE, 0, hall_x[1], ((1, d + JAMB, far),)),
        (HALL_CEILING, 2, HALL_HEIGHT, ((1, d + JAMB, far),)),
    ]


def _nearest(
    origin: np.ndarray, dirs: np.ndarray, planes: list[Plane]
) -> tuple[np.ndarray, np.ndarray]:
    """Distance along each ray to the first plane it meets within that plane's bounds."""
    best = np.full(len(dirs), np.inf)
    face = np.full(len(dirs), -1, np.int16)
    for face_id, axis, value, bounds in planes:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (value - origin[axis]) / dirs[:, axis]
        ok = t > 1e-6
        for b_axis, lo, hi in bounds:
            coord = origin[b_axis] + dirs[:, b_axis] * t
            ok &= (coord >= lo - 1e-6) & (coord <= hi + 1e-6)
        closer = ok & (t < best)
        best[closer], face[closer] = t[closer], face_id
    return best, face


def _noise(grid: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smooth value noise in -1..1 at grid coordinates (a, b), repeating every grid size."""
    n0, n1 = grid.shape
    ia, ib = np.floor(a), np.floor(b)
    fa, fb = a - ia, b - ib
    fa, fb = fa * fa * (3 - 2 * fa), fb * fb * (3 - 2 * fb)
    i0, j0 = ia.astype(np.int64) % n0, ib.astype(np.int64) % n1
    i1, j1 = (i0 + 1) % n0, (j0 + 1) % n1
    top = grid[i0, j0] * (1 - fa) + grid[i1, j0] * fa
    bottom = grid[i0, j1] * (1 - fa) + grid[i1, j1] * fa
    return top * (1 - fb) + bottom * fb


def _car_light(p: np.ndarray, car: CarLayout) -> np.ndarray:
    """Brightness under the ceiling light: strongest below its centre, never quite dark."""
    lamp = np.array([car.width / 2, car.depth / 2, car.height])
    d2 = np.sum((p - lamp) ** 2, axis=1)
    return 0.6 + 0.5 * np.exp(-d2 / (2 * 1.2**2))


def _material(face: int, p: np.ndarray, car: CarLayout, grids: list[np.ndarray]) -> np.ndarray:
    x, y, z = p[:, 0], p[:, 1], p[:, 2]
    if face == FLOOR:
        return _floor(x, y, car, grids) * _car_light(p, car)[:, None]
    if face == CEILING:
        inset = 0.28
        lamp = (np.abs(x - car.width / 2) < car.width / 2 - inset) & (
            np.abs(y - car.depth / 2) < car.depth / 2 - inset
        )
        colour = np.where(lamp[:, None], [246.0, 250, 252], [150.0, 150, 148])
        return colour + _noise(grids[1], x * 40, y * 40)[:, None] * 3
    if face == SIDE_WALL:
        return _wall(y, z, car, grids) * _car_light(p, car)[:, None]
    if face == BACK_WALL:
        return _wall(x, z, car, grids) * _car_light(p, car)[:, None]
    if face == DOOR_WALL:
        return _door_wall(x, z, car, grids) * _car_light(p, car)[:, None]
    hall_light = 0.78 + 0.08 * _noise(grids[2], x * 2, y * 2)[:, None]
    if face in (JAMB_SIDE, LINTEL):
        return (np.array([190.0, 190, 186]) + _noise(grids[0], y * 300, z * 2)[:, None] * 6) * 0.8
    if face == HALL_FLOOR:
        sill = (y < car.depth + JAMB + 0.03) & (x > car.door_x0 - 0.05) & (x < car.door_x1 + 0.05)
        tile = (np.mod(x, 0.6) < 0.005) | (np.mod(y, 0.6) < 0.005)
        stone = np.array([188.0, 196, 204]) + _noise(grids[3], x * 8, y * 8)[:, None] * 10
        stone = np.where(tile[:, None], stone * 0.75, stone)
        return np.where(sill[:, None], _sill(y), stone) * hall_light
    paint = np.array(car.hall_paint, np.float64)
    if face == HALL_CEILING:
        return np.full((len(x), 3), 236.0) * hall_light
    skirting = z < 0.12
    return np.where(skirting[:, None], paint * 0.6, paint) * hall_light


def _sill(y: np.ndarray) -> np.ndarray:
    """Aluminium threshold with grooves running across the doorway."""
    groove = np.mod(y, 0.009) < 0.004
    return np.where(groove[:, None], [120.0, 122, 124], [196.0, 198, 200])


def _floor(x: np.ndarray, y: np.ndarray, car: CarLayout, grids: list[np.ndarray]) -> np.ndarray:
    finish = car.floor_finish
    cell = 0.4 if finish != "checker tiles" else 0.3
    ix, iy = np.floor(x / cell).astype(np.int64), np.floor(y / cell).astype(np.int64)
    tone = grids[3][ix % 64, iy % 64][:, None]
    if finish == "marble tiles":
        base = np.array([196.0, 206, 214]) + tone * 10
        base = base + _noise(grids[2], x * 9, y * 5)[:, None] * 9
    elif finish == "granite border":
        border = (x < 0.16) | (x > car.width - 0.16) | (y < 0.16) | (y > car.depth - 0.16)
        speck = _noise(grids[1], x * 300, y * 300)[:, None] * 14
        base = np.where(border[:, None], np.array([58.0, 56, 62]), np.array([150.0, 160, 172]))
        base = base + speck + tone * 6
    elif finish == "speckled vinyl":
        speck = _noise(grids[1], x * 400, y * 400)[:, None]
        base = np.array([92.0, 96, 98]) + np.where(speck > 0.6, 60.0, 0.0) + speck * 8
        return np.where((y > car.depth - 0.035)[:, None], _sill(y), base)
    else:
        dark = ((ix + iy) % 2 == 1)[:, None]
        base = np.where(dark, np.array([70.0, 72, 76]), np.array([200.0, 206, 210])) + tone * 6
    grout = (np.mod(x, cell) < 0.004) | (np.mod(y, cell) < 0.004)
    base = np.where(grout[:, None], base * 0.72, base)
    return np.where((y > car.depth - 0.035)[:, None], _sill(y), base)


def _wall(a: np.ndarray, z: np.ndarray, car: CarLayout, grids: list[np.ndarray]) -> np.ndarray:
    """A wall finish at (a along the wall, z up): panels with seams, a kick plate, a frieze."""
    base, amount = WALL_FINISHES[car.wall_finish]
    if car.wall_finish == "wood laminate":
        grain = _noise(grids[0], a * 45, z * 2) * amount + _noise(grids[1], a * 400, z * 20) * 4
    else:
        grain = _noise(grids[0], a * 500, z * 2) * amount
    colour = np.array(base) + grain[:, None] + 6 * (z[:, None] - 1.2)
    panel = 0.52
    if car.wall_finish == "etched steel":
        lines = (np.abs(np.mod(a + z, 0.13) - 0.065) < 0.0025) | (
            np.abs(np.mod(a - z, 0.13) - 0.065) < 0.0025
        )
        etched = lines & (z > 1.0) & (z < 1.9) & (np.mod(a, panel) > 0.08)
        colour = np.where(etched[:, None], colour * 1.07, colour)
    seam = np.mod(a, panel) < 0.005
    colour = np.where(seam[:, None], colour * 0.55, colour)
    kick = z < 0.1
    colour = np.where(kick[:, None], np.array([120.0, 120, 120]) + grain[:, None] * 0.5, colour)
    frieze = z > car.height - 0.1
    return np.where(frieze[:, None], colour * 0.8, colour)


def _door_wall(x: np.ndarray, z: np.ndarray, car: CarLayout, grids: list[np.ndarray]) -> np.ndarray:
    """The wall with the door: a steel frame round the opening, the button panel, displays."""
    colour = _wall(x, z, car, grids)
    steel = np.array([192.0, 192, 188]) + _noise(grids[0], x * 500, z * 2)[:, None] * 7
    frame = (x > car.door_x0 - 0.06) & (x < car.door_x1 + 0.06) & (z < car.door_height + 0.2)
    colour = np.where(frame[:, None], steel * 0.95, colour)
    panel = (x > car.panel_x0) & (x < car.panel_x1) & (z > 0.85) & (z < 1.8)
    colour = np.where(panel[:, None], steel * 1.04, colour)
    centre = (car.panel_x0 + car.panel_x1) / 2
    column = np.where(x < centre, centre - 0.045, centre + 0.045)
    row = 0.95 + np.round((z - 0.95) / 0.075) * 0.075
    button = ((x - column) ** 2 + (z - row) ** 2 < 0.017**2) & panel & (z > 0.93) & (z < 1.5)
    colour = np.where(button[:, None], [120.0, 200, 236], colour)
    for dx0, dx1, dz0, dz1 in _display_rects(car):
        screen = (x > dx0) & (x < dx1) & (z > dz0) & (z < dz1)
        colour = np.where(screen[:, None], [28.0, 24, 22], colour)
    return colour


def _door_panels(p: np.ndarray, car: CarLayout, grids: list[np.ndarray]) -> np.ndarray:
    x, z = p[:, 0], p[:, 2]
    brushed = _noise(grids[0], x * 500, z * 2)[:, None] * 8
    colour = np.array([184.0, 184, 180]) + brushed + 10 * (z[:, None] - 1.0)
    edge = (x - car.door_x0 < 0.02) | (car.door_x1 - x < 0.02)
    return np.where(edge[:, None], colour * 0.7, colour)


def _display_rects(car: CarLayout) -> list[tuple[float, float, float, float]]:
    """(x0, x1, z0, z1) of the floor indicators: above the door and atop the button panel."""
    middle = (car.door_x0 + car.door_x1) / 2
    centre = (car.panel_x0 + car.panel_x1) / 2
    top = car.door_height + 0.06
    return [
        (middle - 0.14, middle + 0.14, top, min(top + 0.1, car.height - 0.12)),
        (centre - 0.07, centre + 0.07, 1.6, 1.72),
    ]


def _displays(car: CarLayout, camera: CarCamera) -> tuple[tuple[float, float, float], ...]:
    found = []
    for x0, x1, z0, z1 in _display_rects(car):
        corners = np.array([[x0, car.depth, z0], [x1, car.depth, z1]])
        cam = camera.to_camera(corners)
        if cam[:, 2].min() < NEAR:
            continue
        (u0, v0), (u1, v1) = camera.to_image(cam)
        if 0 <= min(u0, u1) and max(u0, u1) < camera.width and 0 <= min(v0, v1):
            found.append(((u0 + u1) / 2, (v0 + v1) / 2, abs(v1 - v0)))
    return tuple(found)


def _handrails(image: np.ndarray, car: CarLayout, camera: CarCamera) -> None:
    rails = [((car.width - 0.06, 0.25, 0.9), (car.width - 0.06, car.depth - 0.3, 0.9))]
    if car.back_rail:
        rails.append(((0.3, 0.06, 0.9), (car.width - 0.25, 0.06, 0.9)))
    for start, end in rails:
        draw_tube(image, camera, start, end, 0.022, (120, 122, 124))
        lift = np.array([0.0, 0.0, 0.012])
        draw_tube(image, camera, np.add(start, lift), np.add(end, lift), 0.007, (225, 228, 230))


def draw_tube(
    image: np.ndarray,
    camera: CarCamera,
    start: tuple[float, float, float] | np.ndarray,
    end: tuple[float, float, float] | np.ndarray,
    radius: float,
    colour: tuple[int, int, int],
) -> None:
    """A straight round bar in the world, thicker where it comes nearer the lens."""
    steps = np.linspace(0, 1, 25)[:, None]
    points = np.asarray(start) * (1 - steps) + np.asarray(end) * steps
    cam = camera.to_camera(points)
    pixels = camera.to_image(cam)
    distance = np.linalg.norm(cam, axis=1)
    for i in range(len(points) - 1):
        if cam[i, 2] < NEAR or cam[i + 1, 2] < NEAR:
            continue
        depth = (distance[i] + distance[i + 1]) / 2
        thickness = max(1, round(2 * radius * camera.focal / depth))
        p0 = tuple(int(round(c * 8)) for c in pixels[i])
        p1 = tuple(int(round(c * 8)) for c in pixels[i + 1])
        cv2.line(image, p0, p1, colour, thickness, cv2.LINE_AA, 3)  # type: ignore[call-overload]
