"""A furnished shoebox room: router, ESP32 nodes and the static multipath between them.

The room is seeded by ``room_seed`` alone, so every scenario played in the same room sees the
same walls, furniture and node positions, hence the same static channel. Walls, floor and ceiling
reflect specularly; in a shoebox every image source up to a given order is a valid path (the
direct path plus 6, 18 and 38 images of order 1, 2 and 3). Furniture (including the chair and bed
the person uses) are point scatterers.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np

from .channel import bistatic_amplitude, free_space_amplitude, path_responses

ROOM_TAG = 0x5200
NODE_TAG = 0x5201
ANTENNA_SPACING_WAVELENGTHS = 0.5
# Static multipath keeps reflections up to third order: enough delay spread for the few-dB ripple
# across the band seen on real ESP32 CSI; a moving person's echo keeps one bounce.
STATIC_REFLECTION_ORDER = 3


@dataclass(frozen=True)
class StaticPaths:
    """The time-invariant propagation paths from the router to one node's antennas.

    ``responses`` is ``[antennas, paths, subcarriers]``; ``shadow_starts``/``shadow_ends``
    are ray segments a body can block, ``shadow_paths`` the path each belongs to.
    """

    responses: np.ndarray
    shadow_starts: np.ndarray
    shadow_ends: np.ndarray
    shadow_paths: np.ndarray

    @property
    def channel(self) -> np.ndarray:
        """The static channel ``[antennas, subcarriers]``: all paths summed."""
        return self.responses.sum(axis=1)


@dataclass(frozen=True)
class Room:
    """Geometry of one room, metres, origin at a floor corner, z up.

    ``walls`` holds complex reflection coefficients in the order -x, +x, -y, +y, floor, ceiling.
    ``chair``/``bed``/``stand_spot`` are ``(x, y, facing_rad)`` where a person sits, lies (facing =
    bed axis, head end) or stands; the flutter scatterer is a curtain or plant that drifts slightly.
    """

    size: np.ndarray
    router: np.ndarray
    walls: np.ndarray
    furniture: np.ndarray
    furniture_rcs: np.ndarray
    chair: np.ndarray
    bed: np.ndarray
    stand_spot: np.ndarray
    flutter: np.ndarray
    flutter_rcs: float
    room_seed: int

    def node_position(self, node_id: int) -> np.ndarray:
        """Receive position of node ``node_id``, fixed by the room seed and the id alone."""
        return _node_position(self, node_id)

    def antenna_positions(self, node_id: int, n_antennas: int, wavelength_m: float) -> np.ndarray:
        """``[n_antennas, 3]``: a half-wavelength linear array along the wall the node is on."""
        centre = self.node_position(node_id)
        along = _wall_tangent(self.size, centre)
        offsets = (np.arange(n_antennas) - (n_antennas - 1) / 2) * ANTENNA_SPACING_WAVELENGTHS
        return centre + offsets[:, None] * wavelength_m * along


def make_room(room_seed: int) -> Room:
    """Draw a plausible living room / bedroom from ``room_seed``."""
    rng = np.random.default_rng([room_seed, ROOM_TAG])
    size = np.array([rng.uniform(4.0, 6.0), rng.uniform(3.5, 5.0), rng.uniform(2.4, 2.8)])
    router = _point_on_wall(size, rng.uniform(), 0.15, rng.uniform(0.8, 2.0))
    magnitude = np.concatenate([rng.uniform(0.3, 0.6, 4), [rng.uniform(0.3, 0.5), rng.uniform(0.2, 0.4)]])
    walls = magnitude * np.exp(1j * (np.pi + rng.uniform(-0.3, 0.3, 6)))

    n_clutter = int(rng.integers(6, 11))
    clutter = np.column_stack([
        rng.uniform(0.3, size[0] - 0.3, n_clutter),
        rng.uniform(0.3, size[1] - 0.3, n_clutter),
        rng.uniform(0.3, 2.0, n_clutter),
    ])
    clutter_rcs = np.exp(rng.uniform(np.log(0.05), np.log(1.0), n_clutter))

    # People face roughly towards the router-node-1 link so a single node sees their chest.
    link_middle = (router + _node_position_raw(size, router, room_seed, 1)) / 2
    bed_xy = np.array([rng.uniform(1.2, size[0] - 1.2), rng.uniform(1.2, size[1] - 1.2)])
    bed = np.array([*bed_xy, rng.choice([0.0, np.pi / 2]) + rng.uniform(-0.2, 0.2)])
    chair_xy = np.array([rng.uniform(0.8, size[0] - 0.8), rng.uniform(0.8, size[1] - 0.8)])
    chair = np.array([*chair_xy, _heading(chair_xy, link_middle[:2]) + rng.uniform(-0.8, 0.8)])
    stand_xy = np.array([rng.uniform(0.8, size[0] - 0.8), rng.uniform(0.8, size[1] - 0.8)])
    stand_spot = np.array([*stand_xy, _heading(stand_xy, link_middle[:2]) + rng.uniform(-0.8, 0.8)])

    furniture = np.vstack([clutter, [*chair_xy, 0.45], [*bed_xy, 0.45]])
    furniture_rcs = np.concatenate([clutter_rcs, [0.2, 1.0]])
    flutter = _point_on_wall(size, rng.uniform(), 0.3, rng.uniform(0.8, 2.0))
    return Room(
        size=size, router=router, walls=walls, furniture=furniture, furniture_rcs=furniture_rcs,
        chair=chair, bed=bed, stand_spot=stand_spot, flutter=flutter,
        flutter_rcs=float(rng.uniform(0.01, 0.03)), room_seed=room_seed,
    )


def static_paths(room: Room, rx: np.ndarray, freqs_hz: np.ndarray) -> StaticPaths:
    """Direct path, wall/floor/ceiling reflections (order <= 2) and furniture echoes to ``rx``.

    ``rx`` is ``[antennas, 3]``.
    """
    lam = 299_792_458.0 / float(np.mean(freqs_hz))
    images, gains = image_sources(room.router, room.size, room.walls, STATIC_REFLECTION_ORDER)
    lengths = np.linalg.norm(rx[:, None, :] - images[None, :, :], axis=-1)  # [A, I]
    reflected = path_responses(gains * free_space_amplitude(lengths, lam), lengths, freqs_hz)

    to_tx = np.linalg.norm(room.furniture - room.router, axis=-1)
    to_rx = np.linalg.norm(rx[:, None, :] - room.furniture[None, :, :], axis=-1)
    echo = bistatic_amplitude(to_tx, to_rx, room.furniture_rcs, lam)
    scattered = path_responses(echo, to_tx + to_rx, freqs_hz)

    # A body blocks the direct ray and the furniture rays (both legs); image rays mostly run
    # along walls, floor and ceiling, where nobody stands in the way.
    n_images = images.shape[0]
    n_furniture = room.furniture.shape[0]
    rx0 = rx[0]
    starts = np.vstack([room.router, np.repeat(room.router[None], n_furniture, 0), room.furniture])
    ends = np.vstack([rx0, room.furniture, np.repeat(rx0[None], n_furniture, 0)])
    owners = np.concatenate([[0], n_images + np.arange(n_furniture), n_images + np.arange(n_furniture)])
    return StaticPaths(
        responses=np.concatenate([reflected, scattered], axis=1),
        shadow_starts=starts, shadow_ends=ends, shadow_paths=owners,
    )


def image_sources(
    source: np.ndarray, size: np.ndarray, walls: np.ndarray, max_order: int
) -> tuple[np.ndarray, np.ndarray]:
    """Image positions and reflection gains of ``source`` in a shoebox, up to ``max_order`` bounces.

    Along an axis of length ``L`` the images are ``2nL + x`` (``|n|`` bounces on each wall) and
    ``2nL - x`` (``n`` on the high wall and ``n - 1`` on the low one for ``n >= 1``, ``|n|`` high
    and ``|n| + 1`` low otherwise). The first image returned is the source itself.
    """
    per_axis = []
    for axis in range(3):
        x, length = source[axis], size[axis]
        options = []
        for n in range(-max_order, max_order + 1):
            options.append((2 * n * length + x, abs(n), abs(n)))
            low, high = (n - 1, n) if n >= 1 else (abs(n) + 1, abs(n))
            options.append((2 * n * length - x, low, high))
        per_axis.append(sorted(options, key=lambda option: option[1] + option[2]))
    images, gains = [], []
    for choice in product(*per_axis):
        if sum(low + high for _, low, high in choice) > max_order:
            continue
        gain = 1.0 + 0j
        for axis, (_, low, high) in enumerate(choice):
            gain *= walls[2 * axis] ** low * walls[2 * axis + 1] ** high
        images.append([coordinate for coordinate, _, _ in choice])
        gains.append(gain)
    return np.array(images), np.array(gains)


def _node_position(room: Room, node_id: int) -> np.ndarray:
    return _node_position_raw(room.size, room.router, room.room_seed, node_id)


def _node_position_raw(size: np.ndarray, router: np.ndarray, room_seed: int, node_id: int) -> np.ndarray:
    # Drawn from its own stream so that adding nodes never moves the existing ones.
    rng = np.random.default_rng([room_seed, NODE_TAG, node_id])
    router_fraction = _perimeter_fraction(size, router)
    spread = 0.5 + (node_id - 1) * 0.618
    for _ in range(20):
        fraction = (router_fraction + spread + rng.uniform(-0.12, 0.12)) % 1.0
        candidate = _point_on_wall(size, fraction, 0.1, rng.uniform(0.6, 1.6))
        if np.linalg.norm(candidate - router) >= 1.5:
            return candidate
    return candidate


def _point_on_wall(size: np.ndarray, fraction: float, inset: float, height: float) -> np.ndarray:
    """Point at ``fraction`` (0..1) of the way round the floor perimeter, ``inset`` into the room."""
    w, d = size[0] - 2 * inset, size[1] - 2 * inset
    s = (fraction % 1.0) * 2 * (w + d)
    if s < w:
        x, y = s, 0.0
    elif s < w + d:
        x, y = w, s - w
    elif s < 2 * w + d:
        x, y = 2 * w + d - s, d
    else:
        x, y = 0.0, 2 * (w + d) - s
    return np.array([x + inset, y + inset, height])


def _perimeter_fraction(size: np.ndarray, point: np.ndarray) -> float:
    w, d = size[0], size[1]
    x, y = point[0], point[1]
    distances = [y, w - x, d - y, x]
    wall = int(np.argmin(distances))
    s = [x, w + y, 2 * w + d - x, 2 * (w + d) - y][wall]
    return float(s / (2 * (w + d)))


def _wall_tangent(size: np.ndarray, point: np.ndarray) -> np.ndarray:
    distances = [point[1], size[0] - point[0], size[1] - point[1], point[0]]
    along_x = int(np.argmin(distances)) in (0, 2)
    return np.array([1.0, 0.0, 0.0]) if along_x else np.array([0.0, 1.0, 0.0])


def _heading(origin: np.ndarray, target: np.ndarray) -> float:
    delta = target - origin
    return float(np.arctan2(delta[1], delta[0]))
