"""Device descriptions and the sharding choice for the depthwise pool2d op.

Schemes (as in ttnn conv2d/pool2d; the flattened output is [N*H_out*W_out, C]):

* HEIGHT_SHARDED: output pixels split over cores; every core holds all
  channels (1 channel shard, the same weights on every core).
* WIDTH_SHARDED: channels split over cores; every core computes all pixels
  of its channel slice (one channel shard per core).
* BLOCK_SHARDED: pixels split over grid rows, channels over grid columns
  (one channel shard per core column).

Limits every candidate obeys:

* channels per shard (Cs) is a multiple of 32 (TILE_WIDTH) and divides the
  padded channel count evenly: shards must divide ``round_up(C, 32) / 32``;
* Cs <= 256 ("wide reduction"): tt-metal's pool2d compute kernel reduces at
  most MAX_TILES_PER_REDUCTION = 8 tiles (8 x 32 = 256 channels) per pass
  (tt-metal ttnn/cpp/ttnn/operations/pool/generic/device/kernels/compute/
  pool_2d_multi_core.cpp; `is_wide_reduction` in pool_multi_core_program_factory.cpp).
  Our kernels do not do the multi-pass reduction, so such candidates are
  dropped, and the conv is refused only when no split avoids it;
* at least one output pixel per core; the grid fits the device.

Heuristic. Every valid split is scored by an estimate of the work of the
busiest core, in tile-sized units: ``Cs/32 * (pixels_per_core * kH*kW +
input_pixels_per_core)`` - the multiply+reduce over the window plus the input
sticks (with halo rows) the core must read. Candidates are returned cheapest
first. The classic rules fall out of it:

* HEIGHT when the padded channels fit one core (<= 256) and there are many
  pixels: every core is busy and no channel split is needed;
* WIDTH when the spatial size is small (7x7, 14x14) and C large: splitting
  pixels over rows would leave rows of cores with little work plus halo
  re-reads, while channels split cleanly over many cores;
* BLOCK when both C and the spatial size are large: C > 256 forces a channel
  split and the pixels still fill the grid rows.

Near-ties (within 10 %) are broken by those rules (see `preferred_schemes`:
"small C" = padded C <= 256, "small spatial" = fewer than 4 output pixels per
core of the device), then by fewer cores.
The L1 capacity check is done by program.py, which tries the candidates in
order, so `candidates` returns every valid split, not only the best.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .conv_config import SCHEMES, TILE, DepthwiseConv

if TYPE_CHECKING:
    from .layout import WeightLayout

MAX_REDUCTION_CHANNELS = 8 * TILE  # pool2d MAX_TILES_PER_REDUCTION = 8 tiles


@dataclass(frozen=True)
class Device:
    """One chip as the sharding choice and the L1 check see it."""

    name: str
    arch: str                 # "wormhole_b0" | "blackhole"
    grid: tuple[int, int]     # (rows, cols) = (y, x) of worker (compute) cores
    l1_bytes: int             # L1 per core as the system descriptor reports it (l1_size)
    l1_unreserved_base: int   # bytes at the bottom of L1 used by firmware
    num_dram_channels: int = 0
    notes: str = field(default="", compare=False)

    @property
    def rows(self) -> int:
        return self.grid[0]

    @property
    def cols(self) -> int:
        return self.grid[1]

    @property
    def num_cores(self) -> int:
        return self.grid[0] * self.grid[1]

    @property
    def l1_usable_bytes(self) -> int:
        """L1 left for circular buffers on one core."""
        return self.l1_bytes - self.l1_unreserved_base

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arch": self.arch, "grid": list(self.grid),
                "l1_bytes": self.l1_bytes, "l1_unreserved_base": self.l1_unreserved_base,
                "num_dram_channels": self.num_dram_channels, "notes": self.notes}


# Wormhole n150: 8x8 worker grid, l1_size 1499136 B = 1464 KiB (tt-mlir
# lib/Dialect/TTCore/IR/TTCoreOpsTypes.cpp, createDefaultWormholeSystemDesc);
# l1_unreserved_base 103712 as in the n150 system descriptors quoted in tt-mlir
# docs/src/builder/ttir-builder.md.
N150 = Device("n150", "wormhole_b0", (8, 8), 1499136, 103712, 12,
              "Wormhole n150, 8x8 worker cores, 1464 KiB L1 per core")

# Blackhole p150: L1 1572864 B = 1.5 MiB, l1_unreserved_base 98304
# (tt-mlir createDefaultBlackholeSystemDesc). Worker grid: 10 rows x 13 cols
# (130 cores) on firmware before v19.5.0 (tt-metal
# tech_reports/Blackhole/BlackholeBringUpProgrammingGuide.md; tt-mlir's default
# descriptor). Since firmware v19.5.0 (Jan 2026) every p150 presents 120 Tensix
# cores, i.e. 12x10 minus one dispatch column = 10 rows x 11 cols (tt-metal issue
# #47014; tt-mlir PR #8769 / #9248 moved its default Blackhole grid to 10x11).
# "p150" is the current card; "p150_13x10" the older firmware.
P150 = Device("p150", "blackhole", (10, 11), 1572864, 98304, 8,
              "Blackhole p150, firmware >= v19.5.0: 10x11 worker cores, 1.5 MiB L1")
P150_13X10 = Device("p150_13x10", "blackhole", (10, 13), 1572864, 98304, 8,
                    "Blackhole p150, firmware < v19.5.0: 10x13 worker cores, 1.5 MiB L1")

DEVICES: dict[str, Device] = {d.name: d for d in (N150, P150, P150_13X10)}


def _parse_grid(value: Any) -> tuple[int, int]:
    if isinstance(value, str):  # "8x8", rows x cols as tt-mlir prints it
        parts = value.lower().split("x")
    else:
        parts = list(value)
    if len(parts) != 2:
        raise ValueError(f"grid must be (rows, cols), got {value!r}")
    rows, cols = (int(p) for p in parts)
    if rows < 1 or cols < 1:
        raise ValueError(f"grid must be positive, got {value!r}")
    return rows, cols


def device_from_dict(spec: Mapping[str, Any], base: Device | None = None) -> Device:
    """Build a Device from a dict (e.g. parsed JSON). Missing keys come from `base`.

    Keys: name, arch, grid ([rows, cols] or "RxC"), l1_bytes (or tt-mlir's
    l1_size), l1_unreserved_base, num_dram_channels, notes. A dict may also
    name a built-in device with "base": "n150" and override some fields.
    """
    spec = dict(spec)
    if base is None and "base" in spec:
        base = get_device(spec.pop("base"))
    spec.pop("base", None)
    if "l1_size" in spec and "l1_bytes" not in spec:
        spec["l1_bytes"] = spec.pop("l1_size")
    known = {"name", "arch", "grid", "l1_bytes", "l1_unreserved_base", "num_dram_channels", "notes"}
    unknown = set(spec) - known - {"l1_size"}
    if unknown:
        raise ValueError(f"unknown device keys: {', '.join(sorted(unknown))}")
    values = base.to_dict() if base is not None else {}
    values.update({k: v for k, v in spec.items() if k in known})
    missing = {"name", "grid", "l1_bytes"} - set(values)
    if missing:
        raise ValueError(f"device description lacks {', '.join(sorted(missing))}")
    device = Device(
        name=str(values["name"]), arch=str(values.get("arch", "unknown")),
        grid=_parse_grid(values["grid"]), l1_bytes=int(values["l1_bytes"]),
        l1_unreserved_base=int(values.get("l1_unreserved_base", 0)),
        num_dram_channels=int(values.get("num_dram_channels", 0)),
        notes=str(values.get("notes", "")))
    if device.l1_usable_bytes <= 0:
        raise ValueError(f"device '{device.name}' has no usable L1 "
                         f"({device.l1_bytes} B, {device.l1_unreserved_base} B reserved)")
    return device


def load_device(source: str | Path) -> Device:
    """A Device from a JSON file path or a JSON string."""
    text = str(source)
    if not text.lstrip().startswith("{"):
        text = Path(source).read_text()
    return device_from_dict(json.loads(text))


def get_device(device: str | Device | Mapping[str, Any]) -> Device:
    """Resolve a device name, a Device, or a dict description."""
    if isinstance(device, Device):
        return device
    if isinstance(device, Mapping):
        return device_from_dict(device)
    try:
        return DEVICES[device]
    except KeyError:
        raise ValueError(f"unknown device '{device}' (known: {', '.join(DEVICES)})") from None


def scheme_splits(scheme: str, grid: tuple[int, int], cores: int) -> tuple[int, int]:
    """(channel shards, pixel groups) of `scheme` on the first `cores` cores of `grid`:
    height splits pixels over every core, width channels over every core, block
    pixels over the grid rows and channels over the grid columns."""
    return {"height_sharded": (1, cores), "width_sharded": (cores, 1),
            "block_sharded": (grid[1], grid[0])}[scheme]


@dataclass(frozen=True)
class Sharding:
    scheme: str              # "height_sharded" | "width_sharded" | "block_sharded"
    grid: tuple[int, int]    # (rows, cols) of cores used (bounding box)
    num_shards: int          # channel shards (1, cores, or cols)
    channels_per_shard: int
    pixels_per_core: int     # output rows (N*H_out*W_out split) per core, rounded up
    cores: int = 0           # cores in use when height/width fill rows then a partial row; 0 = rows*cols
    cost: float = field(default=0.0, compare=False)  # heuristic work of the busiest core

    @property
    def num_cores(self) -> int:
        return self.cores or self.grid[0] * self.grid[1]

    @property
    def core_ranges(self) -> list[tuple[tuple[int, int], tuple[int, int]]]:
        """Inclusive ((x0, y0), (x1, y1)) rectangles, x = column, y = row, row-major fill."""
        rows, cols = self.grid
        n = self.num_cores
        full_rows, rest = divmod(n, cols)
        ranges = []
        if full_rows:
            ranges.append(((0, 0), (cols - 1, full_rows - 1)))
        if rest:
            ranges.append(((0, full_rows), (rest - 1, full_rows)))
        return ranges

    @property
    def wide_reduction(self) -> bool:
        return self.channels_per_shard > MAX_REDUCTION_CHANNELS

    def validate(self, conv: DepthwiseConv, device: Device) -> list[str]:
        """Problems with this sharding for `conv` on `device` (empty = valid)."""
        problems = []
        rows, cols = self.grid
        cp = conv.padded_channels
        if self.scheme not in SCHEMES:
            problems.append(f"unknown scheme '{self.scheme}'")
        if rows > device.rows or cols > device.cols:
            problems.append(f"grid {rows}x{cols} exceeds {device.name}'s {device.rows}x{device.cols}")
        if not 1 <= self.num_cores <= rows * cols:
            problems.append(f"{self.num_cores} cores do not fit grid {rows}x{cols}")
        if self.channels_per_shard % TILE or self.channels_per_shard < TILE:
            problems.append(f"{self.channels_per_shard} channels per shard is not a multiple of {TILE}")
        if self.num_shards * self.channels_per_shard != cp:
            problems.append(f"{self.num_shards} shards x {self.channels_per_shard} channels != "
                            f"{cp} padded channels")
        expected_shards, pixel_groups = scheme_splits(self.scheme, self.grid, self.num_cores) \
            if self.scheme in SCHEMES else (None, 1)
        if expected_shards is not None and self.num_shards != expected_shards:
            problems.append(f"{self.scheme} needs {expected_shards} channel shards, has {self.num_shards}")
        if self.pixels_per_core < 1:
            problems.append("no output pixels per core")
        elif self.pixels_per_core * pixel_groups < conv.output_pixels:
            problems.append(f"{pixel_groups} x {self.pixels_per_core} pixels do not cover "
                            f"{conv.output_pixels} output pixels")
        elif self.pixels_per_core * (pixel_groups - 1) >= conv.output_pixels:
            problems.append(f"{pixel_groups} pixel groups of {self.pixels_per_core} leave one empty")
        if self.wide_reduction:
            problems.append(f"{self.channels_per_shard} channels per core exceed the "
                            f"{MAX_REDUCTION_CHANNELS}-channel pool2d reduction")
        return problems


@dataclass(frozen=True)
class Refusal:
    limit: str    # short name: "channel_alignment", "wide_reduction", "grid", ...
    message: str  # names the limit and the numbers

    def __str__(self) -> str:
        return f"{self.limit}: {self.message}"


# ---- cost and candidate generation ----

def _input_pixels_per_core(conv: DepthwiseConv, pixels: int) -> int:
    """Input sticks (incl. halo and padding) behind `pixels` consecutive output pixels."""
    pt, pb, pl, pr = conv.padding
    in_h, in_w = conv.in_h + pt + pb, conv.in_w + pl + pr
    total = conv.batch * in_h * in_w
    out_rows = min(-(-pixels // conv.out_w) + (1 if pixels % conv.out_w else 0),
                   conv.batch * conv.out_h)
    rows = (out_rows - 1) * conv.stride[0] + conv.dilation[0] * (conv.kernel[0] - 1) + 1
    return min(total, rows * in_w)


def _cost(conv: DepthwiseConv, pixels_per_core: int, cs: int) -> float:
    return cs / TILE * (pixels_per_core * conv.window + _input_pixels_per_core(conv, pixels_per_core))


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _row_major(n: int, cols: int) -> tuple[tuple[int, int], int]:
    """Grid bounding box and core count for n cores filled row by row."""
    return (-(-n // cols), min(n, cols)), n


def _split_pixels(pixels: int, groups: int) -> tuple[int, int]:
    """pixels_per_group (rounded up) and the groups actually needed (none empty)."""
    per = -(-pixels // groups)
    return per, -(-pixels // per)


def _height(conv: DepthwiseConv, device: Device) -> list[Sharding]:
    ppc, n = _split_pixels(conv.output_pixels, min(device.num_cores, conv.output_pixels))
    grid, cores = _row_major(n, device.cols)
    cp = conv.padded_channels
    return [Sharding("height_sharded", grid, 1, cp, ppc, cores, _cost(conv, ppc, cp))]


def _width(conv: DepthwiseConv, device: Device) -> list[Sharding]:
    out = []
    ppc = conv.output_pixels
    for n in _divisors(conv.padded_channels // TILE):
        if n > device.num_cores:
            break
        cs = conv.padded_channels // n
        grid, cores = _row_major(n, device.cols)
        out.append(Sharding("width_sharded", grid, n, cs, ppc, cores, _cost(conv, ppc, cs)))
    return out


def _block(conv: DepthwiseConv, device: Device) -> list[Sharding]:
    out = []
    ppc, rows = _split_pixels(conv.output_pixels, min(device.rows, conv.output_pixels))
    for cols in _divisors(conv.padded_channels // TILE):
        if cols > device.cols:
            break
        cs = conv.padded_channels // cols
        out.append(Sharding("block_sharded", (rows, cols), cols, cs, ppc, 0, _cost(conv, ppc, cs)))
    return out


_GENERATORS = {"height_sharded": _height, "width_sharded": _width, "block_sharded": _block}


def preferred_schemes(conv: DepthwiseConv, device: Device) -> tuple[str, ...]:
    """Rule-of-thumb scheme order, used to break near-ties in cost."""
    small_c = conv.padded_channels <= MAX_REDUCTION_CHANNELS
    small_spatial = conv.output_pixels < device.rows * device.cols * 4
    if small_c and not small_spatial:
        return ("height_sharded", "block_sharded", "width_sharded")
    if small_spatial and not small_c:
        return ("width_sharded", "block_sharded", "height_sharded")
    if small_c:
        return ("height_sharded", "width_sharded", "block_sharded")
    return ("block_sharded", "width_sharded", "height_sharded")


def _all_splits(conv: DepthwiseConv, device: Device, scheme: str | None) -> list[Sharding]:
    schemes = SCHEMES if scheme is None else (scheme,)
    return [s for name in schemes for s in _GENERATORS[name](conv, device)]


def _order(conv: DepthwiseConv, device: Device, splits: list[Sharding]) -> list[Sharding]:
    if not splits:
        return []
    rank = {name: i for i, name in enumerate(preferred_schemes(conv, device))}
    best = min(s.cost for s in splits)
    # costs within 10 % of each other count as equal: bucket on a log scale from the best
    def key(s: Sharding) -> tuple:
        bucket = math.floor(math.log(s.cost / best, 1.1) + 1e-9) if best > 0 else 0
        return (bucket, rank[s.scheme], s.num_cores, s.cost)
    return sorted(splits, key=key)


def _check_request(conv: DepthwiseConv, scheme: str | None) -> Refusal | None:
    if scheme is not None and scheme not in SCHEMES:
        return Refusal("scheme", f"unknown sharding scheme '{scheme}' (expected one of {', '.join(SCHEMES)})")
    if conv.out_h < 1 or conv.out_w < 1 or conv.batch < 1:
        return Refusal("output_size", f"output is {conv.batch}x{conv.out_h}x{conv.out_w}: no pixels to compute")
    if conv.channels < 1:
        return Refusal("channels", f"{conv.channels} channels")
    return None


def candidates(conv: DepthwiseConv, device: str | Device | Mapping[str, Any],
               scheme: str | None = None, *, allow_wide_reduction: bool = False) -> list[Sharding]:
    """Every valid sharding of `conv` on `device`, most preferred first.

    `scheme` forces one scheme. Wide-reduction splits (> 256 channels per
    core) are left out unless `allow_wide_reduction`.
    """
    device = get_device(device)
    if _check_request(conv, scheme) is not None:
        return []
    splits = _all_splits(conv, device, scheme)
    if not allow_wide_reduction:
        splits = [s for s in splits if not s.wide_reduction]
    return _order(conv, device, splits)


def choose_sharding(conv: DepthwiseConv, device: str | Device | Mapping[str, Any],
                    scheme: str | None = None) -> Sharding | Refusal:
    """The preferred sharding, or a Refusal naming the limit that rules every split out."""
    device = get_device(device)
    refusal = _check_request(conv, scheme)
    if refusal is not None:
        return refusal
    found = candidates(conv, device, scheme)
    if found:
        return found[0]
    return _explain_refusal(conv, device, scheme)


def _explain_refusal(conv: DepthwiseConv, device: Device, scheme: str | None) -> Refusal:
    cp = conv.padded_channels
    tiles = cp // TILE
    what = f"{scheme} " if scheme else ""
    splits = _all_splits(conv, device, scheme)
    if not splits:
        return Refusal("grid", f"{what}no split of {cp} channels x {conv.output_pixels} pixels fits "
                               f"{device.name}'s {device.rows}x{device.cols} grid")
    narrowest = min(s.channels_per_shard for s in splits)
    if scheme == "height_sharded":
        return Refusal("wide_reduction",
                       f"height sharding keeps all {cp} padded channels on every core; the pool2d "
                       f"reduction takes at most {MAX_REDUCTION_CHANNELS} channels per core")
    max_shards = device.cols if scheme == "block_sharded" else device.num_cores
    # an uneven split would have fitted: the limit is the even 32-channel split
    if -(-tiles // max_shards) * TILE <= MAX_REDUCTION_CHANNELS:
        return Refusal("channel_alignment",
                       f"{what}{cp} padded channels ({tiles} tiles of {TILE}) cannot be split evenly "
                       f"into shards of at most {MAX_REDUCTION_CHANNELS} channels over at most "
                       f"{max_shards} shards on {device.name}; the narrowest even split leaves "
                       f"{narrowest} channels per core")
    return Refusal("wide_reduction",
                   f"{what}{cp} padded channels need at least {narrowest} channels per core on "
                   f"{device.name} ({max_shards} shards at most); the pool2d reduction takes at most "
                   f"{MAX_REDUCTION_CHANNELS}")


def layout_for(conv: DepthwiseConv, sharding: Sharding) -> "WeightLayout":
    """The WeightLayout matching `sharding` (same channel shards)."""
    from .layout import make_layout

    layout = make_layout(conv, sharding.scheme, sharding.num_shards)
    assert layout.channels_per_shard == sharding.channels_per_shard
    return layout
